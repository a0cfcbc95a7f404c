"""Build the Lambda artifact, `build/lambda.zip`: the `service` package, the spec (as
`openapi.json`), and the runtime dependencies of `pyproject.toml` (not the dev extras),
installed for Lambda, with stubs for modules the function never runs (`tools.lambda_stubs`).

    python -m tools.package_lambda                 # what `make package` runs
    python -m tools.package_lambda --no-smoke      # skip the import check of the result

Dependencies are installed for the function's platform, not this machine's: CPython 3.11 on
x86_64 with glibc 2.17+ (`manylinux2014_x86_64`; the python3.11 runtime runs on Amazon Linux 2,
glibc 2.26), binary wheels only, so compiled packages (bcrypt, cryptography, ...) are the ones
Lambda can load. Tests, devstack, tools and console scripts stay out.

The modules are byte-compiled into the zip (unchecked-hash .pyc files): Lambda's code directory
is read-only, so without them every cold start compiles every module it imports from source.
This needs a Python 3.11 here, the runtime's version; on another version the step is skipped.

The smoke check imports every function's handler from the staged files alone (no
site-packages), stubs included, and serves requests that need no AWS call through routing,
authentication, body validation and the error handlers, and a stream batch through the
notifier: every import resolves and no stub is used.
"""

from __future__ import annotations

import argparse
import compileall
import os
import py_compile
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from tools.lambda_artifact import smoke_check, write_spec, write_stubs

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
BUILD = ROOT / "build"
STAGING = BUILD / "lambda"
ARTIFACT = BUILD / "lambda.zip"

PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.11"
# What the artifact carries from this repository (everything else here stays out), and the spec.
SOURCES = ["service"]
SPEC = ROOT / "openapi.yaml"
# Never in the artifact, wherever a dependency would put them.
EXCLUDED_TOP_LEVEL = {"tests", "test", "devstack", "tools", "bin", "benchmarks", "loadtests"}
EXCLUDED_NAMES = {"__pycache__"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Lambda's limit for code deployed from S3 (as `aws cloudformation package` does): unzipped.
MAX_UNZIPPED = 250 * 1000 * 1000
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # identical inputs give an identical zip (and S3 key)


def runtime_dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    """`[project].dependencies`: what the service needs at run time, without the dev extras."""
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def pip_command(target: Path, requirements: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
        *requirements,
    ]


def is_excluded(relative: Path) -> bool:
    parts = relative.parts
    return (
        parts[0] in EXCLUDED_TOP_LEVEL
        or any(part in EXCLUDED_NAMES for part in parts)
        or relative.suffix in EXCLUDED_SUFFIXES
    )


def stage(target: Path = STAGING, requirements: list[str] | None = None) -> None:
    """Fill `target` with the dependencies and the sources, ready to zip."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    subprocess.run(pip_command(target, requirements or runtime_dependencies()), check=True)
    finish(target)


def finish(target: Path) -> None:
    """Over the dependencies installed in `target`: the sources, the spec and the stubs."""
    for source in SOURCES:
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, target / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, target / source)
    for entry in list(target.iterdir()):
        if is_excluded(Path(entry.name)):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    write_spec(SPEC, target)
    write_stubs(target)


def byte_compile(target: Path) -> bool:
    """Compile every module to __pycache__ (unchecked hashes: valid whatever the file times
    are after Lambda unpacks the zip). False if this Python cannot compile for the runtime."""
    if sys.version_info[:2] != tuple(int(p) for p in PYTHON_VERSION.split(".")):
        print(
            f"note: not byte-compiling: this is Python {sys.version_info.major}.{sys.version_info.minor},"
            f" the runtime is {PYTHON_VERSION}",
            file=sys.stderr,
        )
        return False
    return compileall.compile_dir(
        str(target),
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def files_to_zip(target: Path, with_pyc: bool) -> list[Path]:
    files = []
    for path in sorted(target.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(target)
        if relative.parts[0] in EXCLUDED_TOP_LEVEL:
            continue
        if relative.suffix in EXCLUDED_SUFFIXES or "__pycache__" in relative.parts:
            if not (with_pyc and relative.suffix == ".pyc"):
                continue
        files.append(relative)
    return files


def write_zip(target: Path, output: Path, with_pyc: bool) -> tuple[int, int]:
    """A reproducible zip of `target`; returns (files, unzipped bytes)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    files = files_to_zip(target, with_pyc)
    unzipped = 0
    tmp = output.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for relative in files:
            path = target / relative
            info = zipfile.ZipInfo(relative.as_posix(), date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data, compresslevel=9)
    tmp.replace(output)
    return len(files), unzipped


def human(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ARTIFACT)
    parser.add_argument("--no-compile", action="store_true", help="leave the .pyc files out")
    parser.add_argument("--no-smoke", action="store_true", help="skip the import check")
    args = parser.parse_args(argv)

    requirements = runtime_dependencies()
    print(f"Installing for {PLATFORM}, CPython {PYTHON_VERSION}: {', '.join(requirements)}")
    stage(STAGING, requirements)
    if not args.no_smoke:
        smoke_check(STAGING)
    with_pyc = not args.no_compile and byte_compile(STAGING)
    count, unzipped = write_zip(STAGING, args.output, with_pyc)
    zipped = args.output.stat().st_size
    print(
        f"{args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}: "
        f"{human(zipped)} ({zipped} bytes), {human(unzipped)} unzipped, {count} files"
        f"{', with .pyc' if with_pyc else ''}"
    )
    if unzipped > MAX_UNZIPPED:
        print("error: over Lambda's 250 MB unzipped limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
