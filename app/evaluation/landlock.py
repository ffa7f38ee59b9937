"""Landlock: the evaluation child gives up access to every file it was not handed.

Linux's Landlock (5.13 and later) lets an unprivileged process restrict itself, for good and for
every process it may start: after ``confine``, the child may read only the Python installation
and the project's own packages (to import what its loaders import lazily), the few system files
libraries read (``/proc/self``, CPU counts), the files of its job (the features, the two model
files), and it may write only inside its job directory. The artifact store (holdout and test
labels), the database file, other jobs' files and the rest of the machine are out of its reach
even if a model loader were broken into running code. Where the kernel's Landlock also covers
TCP (ABI 4) and signals (ABI 6), the child may neither connect nor bind a TCP port, nor signal a
process outside its sandbox. docs/uploads.md lists every layer of the sandbox.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Final

_SYS_CREATE_RULESET: Final = 444  # the same number on every architecture Linux has
_SYS_ADD_RULE: Final = 445
_SYS_RESTRICT_SELF: Final = 446
_CREATE_RULESET_VERSION: Final = 1
_RULE_PATH_BENEATH: Final = 1
_PR_SET_NO_NEW_PRIVS: Final = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_MAKE_AND_REMOVE: Final = sum(1 << bit for bit in range(4, 13))  # remove/make dir, file, ...
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1

READ: Final = READ_FILE | READ_DIR | EXECUTE
"""Reading a tree (and mapping its shared libraries)."""
FILE_ONLY: Final = EXECUTE | WRITE_FILE | READ_FILE | _TRUNCATE | _IOCTL_DEV
"""The rights that may be granted on a single file rather than a directory."""

_SYSTEM_READ: Final = (
    "/usr",
    "/lib",
    "/lib64",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/proc/self",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
    "/dev/null",
    "/dev/urandom",
)


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (
        ("allowed_access", ctypes.c_uint64),
        ("parent_fd", ctypes.c_int32),
    )


class LandlockUnavailable(OSError):  # noqa: N818 (it says what it means)
    """The kernel cannot confine this process with Landlock."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 where it has none (not Linux, too old, disabled)."""
    if platform.system() != "Linux":
        return 0
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _handled_fs(abi: int) -> int:
    rights = EXECUTE | WRITE_FILE | READ_FILE | READ_DIR | _MAKE_AND_REMOVE
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


def python_paths() -> list[Path]:
    """What imports read: the Python installation, the environment's packages, and the
    project's own packages (only their folders: a checkout's other folders may hold a store)."""
    import app  # noqa: PLC0415 (where the server's own modules live)
    import bounty_engine  # noqa: PLC0415

    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    roots |= {Path(p) for p in sys.path if "site-packages" in p or "dist-packages" in p}
    roots |= {Path(p) for p in (*app.__path__, *bounty_engine.__path__)}
    return sorted(roots)


def confine(*, read: Iterable[Path], read_files: Iterable[Path], write: Iterable[Path]) -> int:
    """Restrict this process, for good, to reading ``read`` (trees), the system files libraries
    need and ``read_files`` (single files), and to writing in the ``write`` trees; also no TCP
    and no signals outside its sandbox where the kernel's ABI covers them. Returns the ABI
    version; raises ``LandlockUnavailable`` where the kernel has no Landlock."""
    abi = abi_version()
    if abi < 1:
        raise LandlockUnavailable("this kernel has no Landlock")
    libc = _libc()
    handled = _handled_fs(abi)
    attr = _RulesetAttr(handled, _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0, 0)
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise LandlockUnavailable(os.strerror(ctypes.get_errno()))
    try:
        for path in (*map(Path, _SYSTEM_READ), *read):
            _allow(libc, ruleset, path, READ, handled)
        for path in read_files:
            _allow(libc, ruleset, path, READ_FILE, handled)
        for path in write:
            _allow(libc, ruleset, path, handled & ~(_REFER | EXECUTE), handled)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise LandlockUnavailable(os.strerror(ctypes.get_errno()))
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise LandlockUnavailable(os.strerror(ctypes.get_errno()))
    finally:
        os.close(ruleset)
    return abi


def _allow(libc: ctypes.CDLL, ruleset: int, path: Path, rights: int, handled: int) -> None:
    """Grant ``rights`` beneath ``path`` (only the file rights on a file); a path that does not
    exist on this machine is skipped."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            rights &= FILE_ONLY
        rule = _PathBeneathAttr(rights & handled, fd)
        if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise LandlockUnavailable(f"{path}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
