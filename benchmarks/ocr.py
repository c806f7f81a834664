"""OCR throughput: pages per second with Debian's tesseract (deu), as the inbox runs it.

    python benchmarks/ocr.py            # 2 rounds over the test pages
    python benchmarks/ocr.py --rounds 5

Pages: the four scanned pages in tests/data/mail (generated for the tests: a PNG
Arbeitsunfähigkeitsbescheinigung, a JPEG phone photo of a Kontoauszug, a scanned PDF
Betriebskostenabrechnung (its JPEG page image), a G4 TIFF fax of a Bescheid), each A4 at
150-200 dpi. Compared in the same run:
- `ocr_images` with 1 and with 2 workers (the inbox's way: one tesseract process per page,
  OMP_THREAD_LIMIT=1),
- the peer: tesseract's default, one process at a time using OpenMP threads on all cores.
Other load on the machine lowers the figures: the load average is printed.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pypdf import PdfReader

from amtslotse.inbox.attachments import Limits, _page_images, ocr_images, sniff
from amtslotse.inbox.mail import parse_email

MAIL = Path(__file__).resolve().parents[1] / "tests" / "data" / "mail"


def pages() -> list[bytes]:
    found = []
    for path in sorted(MAIL.glob("*.eml")):
        for attachment in parse_email(path.read_bytes()).attachments:
            kind = sniff(attachment.data, attachment.filename, attachment.content_type)
            if kind in ("png", "jpeg", "tiff"):
                found.append(attachment.data)
            elif kind == "pdf":
                for page in PdfReader(io.BytesIO(attachment.data)).pages:
                    found.extend(image for image in _page_images(page, Limits())[:1] if image)
    return found


def tesseract_default(images: list[bytes]) -> None:
    """The peer: tesseract as installed, one page after the other, OpenMP threads unlimited."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    for image in images:
        subprocess.run([shutil.which("tesseract"), "stdin", "stdout", "-l", "deu"], input=image,
                       capture_output=True, check=True, env=env)


def rate(run, images: list[bytes], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        run(images)
    return rounds * len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("tesseract") is None:
        sys.exit("tesseract not installed: apt-get install tesseract-ocr tesseract-ocr-deu")
    images = pages()
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    print(f"{len(images)} pages x {args.rounds} rounds, {version}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    ocr_images(images[:1])  # warm the file cache (traineddata) before the clock starts
    runs = [
        ("ocr_images, 1 worker (1 thread)", lambda im: ocr_images(im, Limits(ocr_workers=1))),
        ("ocr_images, 2 workers (1 thread each)", lambda im: ocr_images(im, Limits(ocr_workers=2))),
        ("peer: tesseract default (OpenMP), 1 at a time", tesseract_default),
    ]
    print(f"{'':<48}{'pages/s':>8}{'s/page':>8}")
    for name, run in runs:
        r = rate(run, images, args.rounds)
        print(f"{name:<48}{r:>8.2f}{1 / r:>8.2f}")


if __name__ == "__main__":
    main()
