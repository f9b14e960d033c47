"""How fast certificates print, and how big and hungry the printing is.

    python bench/certificate_render.py [--quick]

One run prints, against the issue's goals: the naive loop (one fresh HTML(...).write_pdf()
per certificate, as the code did before the renderer pool), the batch path
(renderer.render_many) and its ratio to the naive loop, one warm certificate on demand
(render_pdf in this process), bytes per certificate, merged print runs (pages a second),
and the resident memory of the renderer processes. Figures are printed, never asserted.
The machine is shared, so the CPU time the renderers spent is printed beside the wall time.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from weasyprint import HTML

from app.certificates import pdf, renderer
from app.certificates.serials import new_serial

VIEW = pdf.CertificateView(
    serial="DL2671HFE8655",
    holder_name="李四海",
    course_title="纺织服装企业数字化转型与智能制造实务",
    course_code="SDU-2026-017",
    university_name="山东大学",
    university_name_en="Shandong University",
    course_title_en="Digital Transformation and Smart Manufacturing for Textile and Apparel",
    hours=Decimal(32),
    completed_on=date(2026, 5, 1),
    issued_on=date(2026, 5, 10),
    verify_url="https://dandelion.example/verify/DL2671HFE8655?k=k1&s=" + "Q" * 86,
    signatory_name="张明远",
    signatory_title="校长",
)
NAMES = ["李四海", "王建国", "张秀英", "刘洋", "陈静", "阿依古丽·买买提", "赵志强", "孙丽娟"]
SIZE_NAMES = {
    "common name (李四海)": "李四海",
    "GBK-only name (王玥)": "王玥",
    "extension A (李䶮)": "李䶮",
    "extension B (𠮷田)": "𠮷田",
}


def views(n: int) -> list[pdf.CertificateView]:
    """n certificates of one course, each with its own serial, name and signature."""
    result = []
    for i in range(n):
        serial = new_serial(2026)
        url = f"https://dandelion.example/verify/{serial}?k=k1&s={i:086d}"
        result.append(replace(VIEW, serial=serial, holder_name=NAMES[i % 8], verify_url=url))
    return result


def naive(view: pdf.CertificateView) -> bytes:
    """What printing cost before: the design's own HTML, a fresh document and fonts each time."""
    folder = pdf.DESIGNS_DIR / "classic"
    html = pdf._environment().get_template("classic/certificate.html").render(pdf._context(view))
    return HTML(string=html, base_url=str(folder / "certificate.html")).write_pdf()


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB; {} once it has exited."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split(":", 1) for line in lines)
    return {k: int(v.split()[0]) for k, v in fields if k in ("VmRSS", "VmHWM")}


def cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def renderer_pids() -> list[int]:
    """This process's renderer children (spawned: their command line says so)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(status_line(entry, "PPid"))
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if ppid == os.getpid() and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


def status_line(entry: Path, key: str) -> str:
    for line in (entry / "status").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise ValueError(key)


class Watch:
    """Samples the renderer processes while a run goes: peak RSS and CPU seconds of each,
    including processes replaced during the run."""

    def __init__(self):
        self.peak: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.start_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        for pid in renderer_pids():
            self.start_cpu[pid] = cpu_seconds(pid)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self):
        while not self._stop.wait(0.2):
            self._sample()

    def _sample(self):
        for pid in renderer_pids():
            memory = status(pid)
            if memory:
                self.peak[pid] = max(self.peak.get(pid, 0), memory["VmHWM"])
                self.cpu[pid] = cpu_seconds(pid)

    def cpu_spent(self) -> float:
        return sum(cpu - self.start_cpu.get(pid, 0.0) for pid, cpu in self.cpu.items())


def line(label: str, value: str, goal: str = "") -> None:
    print(f"{label:52} {value:>22}  {goal}")


def bench_naive(n: int) -> float:
    batch = views(n)
    naive(batch[0])  # imports and the first font load are not the loop's cost
    start, cpu = time.perf_counter(), time.process_time()
    for view in batch:
        naive(view)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    line(f"naive loop, {n} certificates", f"{n / wall:.1f}/s", f"cpu {cpu / n * 1000:.0f} ms each")
    return n / wall


def fresh_pool() -> float:
    """New renderer processes, started and warmed; returns the seconds that took."""
    renderer.shutdown()
    start = time.perf_counter()
    renderer.render_many(views(2 * (os.cpu_count() or 1)))
    return time.perf_counter() - start


def bench_batch(n: int, naive_rate: float) -> None:
    started = fresh_pool()
    line("renderer pool start (spawn, fonts, first render)", f"{started:.1f} s")
    batch = views(n)
    with Watch() as watch:
        start = time.perf_counter()
        results = renderer.render_many(batch)
        wall = time.perf_counter() - start
    failed = sum(isinstance(r, Exception) for r in results)
    rate = n / wall
    line(
        f"batch, render_many({n}) on {len(watch.peak)} processes",
        f"{rate:.1f}/s",
        f"goal >= 25/s; {rate / naive_rate:.1f}x naive (goal >= 5x); {failed} failed",
    )
    cpu_each = watch.cpu_spent() / n
    line(
        "  renderer CPU per certificate",
        f"{cpu_each * 1000:.0f} ms",
        f"= {os.cpu_count() / cpu_each:.1f}/s on {os.cpu_count()} idle cores",
    )


def bench_single(n: int) -> None:
    pdf.prepare()
    wall, cpu = [], []
    for view in views(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        pdf.render_pdf(view)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    line(
        f"one certificate, warm, median (N={n})",
        f"{statistics.median(wall):.0f} ms",
        f"goal <= 100 ms; cpu {statistics.median(cpu):.0f} ms",
    )
    line(f"one certificate, warm, p95 (N={n})", f"{p95(wall):.0f} ms", f"cpu {p95(cpu):.0f} ms")


def bench_sizes() -> None:
    for label, name in SIZE_NAMES.items():
        size = len(pdf.render_pdf(replace(VIEW, holder_name=name)))
        line(f"bytes per certificate, {label}", f"{size / 1024:.0f} KiB", "goal <= 150 KiB")
    size = len(naive(VIEW))
    line("bytes per certificate, naive (full fonts)", f"{size / 1024:.0f} KiB")


def bench_print_runs(sizes: list[int]) -> None:
    with TemporaryDirectory() as folder:
        for n in sizes:
            fresh_pool()  # each run's peak memory is its own
            target = Path(folder) / f"run-{n}.pdf"
            with Watch() as watch:
                start = time.perf_counter()
                renderer.render_print_run(views(n), target)
                wall = time.perf_counter() - start
            size = target.stat().st_size
            line(
                f"merged print run, {n} pages",
                f"{n / wall:.1f} pages/s",
                f"goal >= 40/s; {size / n / 1024:.1f} KiB a page; "
                f"cpu {watch.cpu_spent() / n * 1000:.0f} ms a page",
            )
            line(
                f"  peak RSS of a renderer process ({n} pages)",
                f"{max(watch.peak.values(), default=0) / 1024:.0f} MiB",
                "goal <= 300 MiB",
            )


def bench_memory(n: int) -> None:
    """Resident memory of the renderer processes over n certificates, and of one process
    printing n certificates itself, sampled as it goes (steady, or growing?)."""
    fresh_pool()
    with Watch() as watch:
        renderer.render_many(views(n))
    peaks = ", ".join(f"{kib / 1024:.0f}" for kib in sorted(watch.peak.values()))
    line(f"peak RSS per renderer process, {n} certificates", f"{peaks} MiB", "goal <= 300 MiB")
    samples = []
    for i, view in enumerate(views(n), 1):
        pdf.render_pdf(view)
        if i % (n // 5) == 0:
            samples.append(status(os.getpid())["VmRSS"] / 1024)
    growth = " -> ".join(f"{s:.0f}" for s in samples)
    line(f"RSS of one process printing {n}, every {n // 5}", f"{growth} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run: fewer certificates")
    quick = parser.parse_args().quick
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
        f"{' (quick run)' if quick else ''}"
    )
    start = time.perf_counter()
    pdf.prepare()  # builds the pre-subset fonts the first time on a machine
    line("prepare (fonts; built once per machine)", f"{time.perf_counter() - start:.1f} s")
    naive_rate = bench_naive(5 if quick else 20)
    bench_batch(40 if quick else 400, naive_rate)
    bench_single(10 if quick else 50)
    bench_sizes()
    bench_print_runs([50, 200] if quick else [200, 1000])
    bench_memory(100 if quick else 1000)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    renderer.shutdown()


if __name__ == "__main__":
    main()
