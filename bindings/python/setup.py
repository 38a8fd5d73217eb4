"""Build the gpurent Python package (SWIG wrapper + Pythonic layer).

    pip install ./bindings/python                        # needs setuptools from PyPI
    pip install --no-build-isolation ./bindings/python   # offline, with Debian's setuptools

Where the library comes from, first match wins:
  1. $GPURENT_BUILD_DIR: a libgpurent build directory (libgpurent.a is linked
     statically; headers from $GPURENT_INCLUDE_DIR or the source tree).
  2. The source tree this file sits in, when ../../build/libgpurent.a exists
     (run `make` at the top first): linked statically, so the package needs
     no installed libgpurent.
  3. `pkg-config gpurent`: an installed libgpurent, linked dynamically, with
     an rpath to its libdir (so a library in a non-system prefix is found
     without LD_LIBRARY_PATH). Headers: $GPURENT_INCLUDE_DIR if set, else
     the source tree's, else pkg-config's includedir.

SWIG runs before anything is collected (build_py and build_ext both call it),
so the generated gpurent/capi.py is never missing from the wheel.
"""
import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
BINDINGS = os.path.dirname(HERE)
TOP = os.path.dirname(BINDINGS)
PKG = os.path.join(HERE, "gpurent")
WRAP = os.path.join(PKG, "capi_wrap.c")


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def _interface_files():
    return [os.path.join(BINDINGS, f) for f in sorted(os.listdir(BINDINGS)) if f.endswith(".i")]


def _include_dir():
    if os.environ.get("GPURENT_INCLUDE_DIR"):
        return os.environ["GPURENT_INCLUDE_DIR"]
    tree = os.path.join(TOP, "include")
    if not os.path.isdir(tree):  # a copy of bindings/ only: the installed headers
        inc = _pkg_config("--variable=includedir", "gpurent")
        if inc:
            return inc[0]
    return tree


def run_swig():
    """Generate gpurent/capi.py and gpurent/capi_wrap.c when missing or stale."""
    sources = _interface_files() + [os.path.join(_include_dir(), "gpurent", h)
                                    for h in os.listdir(os.path.join(_include_dir(), "gpurent"))]
    outs = [WRAP, os.path.join(PKG, "capi.py")]
    if all(os.path.exists(o) for o in outs):
        newest = max(os.path.getmtime(s) for s in sources)
        if all(os.path.getmtime(o) >= newest for o in outs):
            return
    cmd = [os.environ.get("SWIG", "swig"), "-python", "-I" + _include_dir(), "-I" + BINDINGS,
           "-o", WRAP, "-outdir", PKG, os.path.join(BINDINGS, "gpurent.i")]
    print(" ".join(cmd))
    subprocess.run(cmd, check=True)


def library_flags():
    """(include_dirs, extra_objects, extra_link_args) for the extension."""
    build = os.environ.get("GPURENT_BUILD_DIR")
    if not build and os.path.exists(os.path.join(TOP, "build", "libgpurent.a")):
        build = os.path.join(TOP, "build")
    if build:
        deps = (_pkg_config("--libs", "libsodium", "msgpack-c") or _pkg_config("--libs", "libsodium", "msgpack")
                or ["-lsodium", "-lmsgpackc"])
        return [_include_dir()], [os.path.join(build, "libgpurent.a")], deps + ["-ldl", "-lpthread"]
    cflags, libs = _pkg_config("--cflags", "gpurent"), _pkg_config("--libs", "gpurent")
    if cflags is None or libs is None:
        sys.exit("gpurent: no libgpurent found: build it (make) or install it (pkg-config gpurent)")
    incs = [f[2:] for f in cflags if f.startswith("-I")]
    libdir = _pkg_config("--variable=libdir", "gpurent")
    if libdir:
        libs = libs + ["-Wl,-rpath," + libdir[0]]
    return incs, [], libs


def version():
    """MAJOR.MINOR.PATCH from gpurent/version.h, the one place it lives."""
    parts = {}
    with open(os.path.join(_include_dir(), "gpurent", "version.h")) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "#define" and w[1].startswith("GPURENT_VERSION_") and w[2].isdigit():
                parts[w[1][len("GPURENT_VERSION_"):]] = w[2]
    return "{MAJOR}.{MINOR}.{PATCH}".format(**parts)


class BuildPy(build_py):
    def run(self):
        run_swig()
        super().run()


class BuildExt(build_ext):
    def run(self):
        run_swig()
        super().run()


incs, objs, links = library_flags()
setup(
    name="gpurent",
    version=version(),
    description="Python binding of libgpurent (decentralized GPU market engine)",
    packages=["gpurent"],
    package_data={"gpurent": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("gpurent._capi", sources=["gpurent/capi_wrap.c"], include_dirs=incs,
                           extra_objects=objs, extra_link_args=links)],
    cmdclass={"build_py": BuildPy, "build_ext": BuildExt},
    python_requires=">=3.9",
)
