"""How long one certificate takes to print, cold and warm.

    python bench/certificate_render.py [N]

The baseline renders with a fresh FontConfiguration each time, which is what render_pdf
would cost without the process's shared one.
"""

import os
import resource
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from weasyprint.text.fonts import FontConfiguration

from app.certificates.pdf import CertificateView, render_pdf, unprintable_chars

VIEW = CertificateView(
    serial="DL2671HFE8655",
    holder_name="李䶮",
    course_title="纺织服装企业数字化转型与智能制造实务",
    course_code="SDU-2026-017",
    university_name="山东大学",
    university_name_en="Shandong University",
    course_title_en="Digital Transformation and Smart Manufacturing for Textile and Apparel",
    hours=Decimal(32),
    completed_on=date(2026, 5, 1),
    issued_on=date(2026, 5, 10),
    verify_url="https://dandelion.example/verify/DL2671HFE8655?k=k1&sig=" + "Q" * 86,
)


def timed(render, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per run; CPU time stays honest when other work shares the cores."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        render()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(runs: int = 20) -> None:
    coverage = timed(lambda: unprintable_chars("李"), 1)
    cold = timed(lambda: render_pdf(VIEW), 1)
    warm = timed(lambda: render_pdf(VIEW), runs)
    size = len(render_pdf(VIEW))
    peak_shared = peak_rss_mib()
    # Last, because each fresh configuration keeps its own copy of the font files alive.
    fresh = timed(lambda: render_pdf(VIEW, font_config=FontConfiguration()), 5)

    median = statistics.median
    rows = [
        ("font coverage load (first check)", coverage[0][0], coverage[1][0]),
        ("cold first render", cold[0][0], cold[1][0]),
        (f"warm, shared fonts, median (N={runs})", median(warm[0]), median(warm[1])),
        (f"warm, shared fonts, p95 (N={runs})", p95(warm[0]), p95(warm[1])),
        ("warm, fresh FontConfiguration, median (N=5)", median(fresh[0]), median(fresh[1])),
    ]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'':44} {'wall ms':>8} {'cpu ms':>8}")
    for label, wall, cpu in rows:
        print(f"{label:44} {wall:8.0f} {cpu:8.0f}")
    print(f"{'PDF size':44} {size / 1024:8.0f} KiB")
    print(f"{f'peak RSS after {runs + 2} shared renders':44} {peak_shared:8.0f} MiB")
    print(f"{'peak RSS after 5 more, fresh configurations':44} {peak_rss_mib():8.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
