"""index/locks.py: flock-based locks between processes; a holder that dies (SIGKILL) releases its lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from index.locks import FileLock

HOLD = ("import sys, time; from pathlib import Path; from index.locks import FileLock\n"
        "with FileLock(Path(sys.argv[1])).exclusive():\n"
        "    print('held', flush=True); time.sleep(600)")


def _holder(path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_waits_names_the_holder_and_gets_the_lock_when_the_holder_is_killed(tmp_path):
    path = tmp_path / "ingest.lock"
    holder = _holder(path)
    waited: list[int | None] = []
    got = threading.Event()

    def take() -> None:
        with FileLock(path).exclusive(waiting=waited.append):
            got.set()

    thread = threading.Thread(target=take)
    thread.start()
    try:
        assert not got.wait(2)  # blocked behind the other process
        assert waited == [holder.pid]
        os.kill(holder.pid, signal.SIGKILL)
        assert holder.wait(timeout=30) == -signal.SIGKILL
        assert got.wait(30)  # the kernel released the dead holder's lock
    finally:
        holder.kill()
        thread.join(timeout=30)
    assert path.read_text() == str(os.getpid())


def test_shared_holders_coexist_and_exclude_a_writer(tmp_path):
    lock = FileLock(tmp_path / "chroma.lock")
    blocked: list[int | None] = []
    acquired = threading.Event()

    def write() -> None:
        with lock.exclusive(waiting=blocked.append):
            acquired.set()

    with lock.shared(), lock.shared():
        thread = threading.Thread(target=write)
        thread.start()
        assert not acquired.wait(1)
        assert blocked == [None]  # nobody has held it exclusively yet, so no pid to name
    assert acquired.wait(30)
    thread.join(timeout=30)
