"""Build the DMS-intake Lambda deployment package: ``build/dms-intake.zip`` (``make lambda-zip``).

What goes in, and why:

* ``dersonlake/`` (the whole package, sources and package data, no bytecode): the handler is
  ``dersonlake.intake.lambda_function.lambda_handler``; the rest is pure Python and small, and the
  handler imports only ``dersonlake.config``, ``dersonlake.errors`` and ``dersonlake.intake``.
* ``owners/``: the owners' files (``DERSON_OWNERS_DIR=/var/task/owners`` in the Terraform module).
* The wheels pinned in ``infra/lambda/requirements.txt`` (boto3 and its closure, PyYAML), for the
  Lambda platform: manylinux2014 wheels for the chosen architecture and the runtime's CPython
  (3.12 = the lambda module's runtime), unpacked as ``pip install --target`` would.
* botocore's service models trimmed to ``dms`` (the only client the handler makes) plus the
  top-level endpoint/partition/retry files; boto3's resource models dropped (no resources used).
  This keeps the zip near 2-3 MB instead of ~15 MB.

Reproducible: the same inputs give the same bytes. Entries are sorted, every timestamp is
1980-01-01, every file mode 0644, no bytecode, and the wheels' RECORD files (which list trimmed
files) are left out. The wheels are downloaded once into ``build/lambda-wheels/`` (``pip download``
with ``--only-binary=:all: --platform ... --python-version ...``); later builds use them offline.

A size report (total, per top-level package) is printed and written next to the zip.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO / "infra" / "lambda" / "requirements.txt"
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
PYTHON_VERSION = "3.12"  # the lambda module's runtime (python3.12)
KEEP_BOTOCORE_SERVICES = ("dms",)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_PARTS = ("__pycache__",)
SKIP_SUFFIXES = (".pyc", ".pyo")


def requirements(path: Path = REQUIREMENTS) -> list[tuple[str, str]]:
    """``(name, version)`` of every ``name==version`` line."""
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SystemExit(f"{path}: {line!r} must pin an exact version (name==version)")
        out.append((name.strip(), version.strip()))
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def find_wheel(wheels: Path, name: str, version: str) -> Path | None:
    for wheel in sorted(wheels.glob("*.whl")):
        parts = wheel.name.split("-")
        if _norm(parts[0]) == _norm(name) and parts[1] == version:
            return wheel
    return None


def download(wheels: Path, reqs: list[tuple[str, str]], platform: str, python_version: str) -> None:
    """Fetch the wheels that are not in ``wheels`` yet (PyPI, binary only, for the Lambda platform)."""
    missing = [f"{n}=={v}" for n, v in reqs if find_wheel(wheels, n, v) is None]
    if not missing:
        return
    wheels.mkdir(parents=True, exist_ok=True)
    abi = "cp" + python_version.replace(".", "")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        platform,
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--abi",
        abi,
        "--dest",
        str(wheels),
        *missing,
    ]
    subprocess.run(cmd, check=True)


def wheel_files(wheel: Path) -> dict[str, bytes]:
    """The files a wheel installs into site-packages (``*.data/purelib|platlib`` folded in)."""
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            name = info.filename
            parts = name.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: not for a Lambda
                name = "/".join(parts[2:])
            if name.endswith(".dist-info/RECORD"):
                continue
            out[name] = z.read(info)
    return out


def keep(name: str) -> bool:
    parts = name.split("/")
    if any(p in SKIP_PARTS for p in parts) or name.endswith(SKIP_SUFFIXES):
        return False
    if parts[0] == "boto3" and len(parts) > 2 and parts[1] == "data":
        return False
    if parts[0] == "botocore" and len(parts) > 3 and parts[1] == "data":
        return parts[2] in KEEP_BOTOCORE_SERVICES
    return True


def tree_files(folder: Path, prefix: str) -> dict[str, bytes]:
    return {
        f"{prefix}/{p.relative_to(folder).as_posix()}": p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def collect(wheels: Path, reqs: list[tuple[str, str]], owners: Path | None) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name, version in reqs:
        wheel = find_wheel(wheels, name, version)
        if wheel is None:
            raise SystemExit(f"no wheel for {name}=={version} in {wheels}")
        files.update(wheel_files(wheel))
    files.update(tree_files(REPO / "src" / "dersonlake", "dersonlake"))
    if owners is not None and owners.is_dir():
        files.update(tree_files(owners, "owners"))
    return {name: data for name, data in files.items() if keep(name)}


def write_zip(files: dict[str, bytes], out: Path) -> None:
    """Same files, same bytes: sorted entries, fixed times and modes, one compression level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3  # unix, so the mode below is honoured
            info.external_attr = (0o100644 & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name], compresslevel=9)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(out)


def size_report(out: Path) -> str:
    """Total and per top-level entry (package, module or dist-info folded into its package)."""
    sizes: dict[str, list[int]] = {}
    with zipfile.ZipFile(out) as z:
        for info in z.infolist():
            top = info.filename.split("/", 1)[0]
            top = re.sub(r"-[^-]+\.dist-info$", " (dist-info)", top)
            entry = sizes.setdefault(top, [0, 0, 0])
            entry[0] += 1
            entry[1] += info.file_size
            entry[2] += info.compress_size
    total = out.stat().st_size
    lines = [f"{out.name}: {total:,} bytes ({total / 2**20:.2f} MiB) zipped", ""]
    lines.append(f"{'top-level':<36} {'files':>6} {'unzipped':>12} {'zipped':>12}")
    for top, (count, raw, packed) in sorted(sizes.items(), key=lambda kv: -kv[1][2]):
        lines.append(f"{top:<36} {count:>6} {raw:>12,} {packed:>12,}")
    raw_total = sum(v[1] for v in sizes.values())
    lines.append(f"{'total':<36} {sum(v[0] for v in sizes.values()):>6} {raw_total:>12,} {total:>12,}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "dms-intake.zip")
    parser.add_argument("--wheels", type=Path, default=REPO / "build" / "lambda-wheels")
    parser.add_argument("--architecture", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("--python-version", default=PYTHON_VERSION)
    parser.add_argument("--owners-dir", type=Path, default=REPO / "owners")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS)
    args = parser.parse_args(argv)

    reqs = requirements(args.requirements)
    wheels = args.wheels / f"{args.architecture}-py{args.python_version}"
    download(wheels, reqs, PLATFORMS[args.architecture], args.python_version)
    write_zip(collect(wheels, reqs, args.owners_dir), args.out)
    report = size_report(args.out)
    args.out.with_name(args.out.stem + ".sizes.txt").write_text(report)
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
