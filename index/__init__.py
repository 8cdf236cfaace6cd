"""The write path: load documents, chunk them, embed the chunks and store them in Chroma plus a keyword index."""
