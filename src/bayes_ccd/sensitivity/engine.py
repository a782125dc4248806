"""Running specifications as Dask tasks: in this process, on local workers, or on a cluster.

Every specification is an independent task (:func:`~bayes_ccd.sensitivity.task.fit_specification`
on its run configuration). They are submitted to a :class:`distributed.Client` and
collected as they complete, whichever of three places runs them; the code path is the
same:

- in this process (the default): a ``LocalCluster`` of one worker thread;
- ``workers=N``: a ``LocalCluster`` of ``N`` worker processes, one thread each (the
  fits are single-threaded numpy; more threads per process would contend for the GIL);
- ``scheduler="tcp://host:8786"``: a running Dask distributed cluster (its workers need
  bayes_ccd and the input files at the same paths).

Each outcome is handed to ``on_done`` as soon as it arrives (the caller stores it), so a
killed run loses only the fits in flight. A task that raises, or whose worker dies, is
an outcome with status ``failed`` and its reason.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bayes_ccd.exceptions import ConfigError
from bayes_ccd.sensitivity.task import Outcome, fit_specification

if TYPE_CHECKING:
    from bayes_ccd.run_config import RunConfig

Progress = Callable[[str], None]


@contextlib.contextmanager
def dask_client(workers: int = 0, scheduler: str = "") -> Iterator[Any]:
    """Yield a ``distributed.Client`` for the chosen place (see the module docstring)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as error:
            raise ConfigError(
                f"no Dask scheduler answers at {scheduler} ({error}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or drop --scheduler"
            ) from None
        with client:
            yield client
        return
    processes = workers > 0
    cluster = LocalCluster(
        n_workers=max(workers, 1),
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
    )
    with cluster, Client(cluster) as client:
        yield client


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _remaining(elapsed: float, done: int, total: int) -> str:
    if done == 0:
        return "estimating the time left"
    seconds = elapsed / done * (total - done)
    return f"about {seconds:.0f} s left" if seconds < 120 else f"about {seconds / 60:.0f} min left"


def run_tasks(
    configs: Mapping[str, RunConfig],
    on_done: Callable[[str, Outcome], None],
    *,
    workers: int = 0,
    scheduler: str = "",
    progress: Progress | None = None,
) -> None:
    """Fit every configuration of ``configs`` (by specification id) on Dask.

    ``on_done(id, outcome)`` is called in this process as each task completes;
    ``progress`` receives a line per finished specification with a bar, the count and
    the estimated time left.
    """
    if not configs:
        return
    from distributed import as_completed

    report = progress or (lambda message: None)
    total = len(configs)
    start = time.perf_counter()
    with dask_client(workers, scheduler) as client:
        # NUTS fits take a minute where the exact sampler takes a second: started first,
        # they overlap the others on a second worker instead of trailing the run.
        order = sorted(configs, key=lambda i: configs[i].bayes.sampler != "nuts")
        futures = {
            client.submit(fit_specification, configs[i], key=f"robustness-{i}", pure=False): i
            for i in order
        }
        for done, future in enumerate(as_completed(futures), start=1):
            spec_id = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # the worker died or the task could not run
                outcome = Outcome("failed", notes=[f"{type(error).__name__}: {error}"])
            on_done(spec_id, outcome)
            state = "done" if outcome.status == "ok" else "FAILED"
            elapsed = time.perf_counter() - start
            report(
                f"{_bar(done, total)} {done}/{total} specifications; {spec_id} {state} "
                f"({outcome.seconds:.1f} s); {_remaining(elapsed, done, total)}"
            )
