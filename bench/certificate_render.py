"""How long one certificate takes to print, cold and warm.

    python bench/certificate_render.py [N]

The baseline renders with a fresh FontConfiguration each time, which is what render_pdf
would cost without the process's shared one.
"""

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


def timed(render, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(runs: int = 20) -> None:
    [coverage_ms] = timed(lambda: unprintable_chars("李"), 1)
    [cold_ms] = timed(lambda: render_pdf(VIEW), 1)
    warm = timed(lambda: render_pdf(VIEW), runs)
    size = len(render_pdf(VIEW))
    peak_shared = peak_rss_mib()
    # Last, because each fresh configuration keeps its own copy of the font files alive.
    fresh = timed(lambda: render_pdf(VIEW, font_config=FontConfiguration()), 5)

    rows = [
        ("font coverage load (first check)", f"{coverage_ms:8.0f} ms"),
        ("cold first render", f"{cold_ms:8.0f} ms"),
        (f"warm, shared fonts (N={runs}) median", f"{statistics.median(warm):8.0f} ms"),
        (f"warm, shared fonts (N={runs}) p95", f"{p95(warm):8.0f} ms"),
        ("warm, fresh FontConfiguration (N=5) median", f"{statistics.median(fresh):8.0f} ms"),
        ("PDF size", f"{size / 1024:8.0f} KiB"),
        (f"peak RSS after {runs + 2} shared renders", f"{peak_shared:8.0f} MiB"),
        ("peak RSS after 5 more with fresh configurations", f"{peak_rss_mib():8.0f} MiB"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
