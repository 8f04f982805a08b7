"""Survey-scale fitting: a catalogue of lenses, one model and fitter chain, run on Dask.

``catalogue`` finds the lenses, ``settings`` reads a batch config, ``runner`` fits one lens (in a
worker process), ``executor`` drives the tasks on a Dask cluster with retries and resume, ``table``
writes the results table and run summary. ``lensframe batch`` (``lensframe.cli.batch``) is the
command-line front end; see docs/batch.md.
"""

from .catalogue import Lens, find_lenses
from .executor import BatchOutcome, run_batch
from .settings import BatchSettings, load_batch

__all__ = ["BatchOutcome", "BatchSettings", "Lens", "find_lenses", "load_batch", "run_batch"]
