"""The catalogue and the batch config, on the host: lenses from a folder or a CSV, and every
config error named by its key before any task starts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lensframe.errors import ConfigError, DataError, LensframeError
from lensframe.survey import find_lenses, load_batch
from lensframe.survey.settings import from_dict


def test_folder_catalogue_fills_templates_and_skips_non_lens_folders(survey, tmp_path):
    config, truths = survey(3)
    (tmp_path / "lenses" / "notes").mkdir()  # no image: not a lens
    settings = load_batch(config, output_dir=tmp_path / "out")
    assert [lens.name for lens in settings.lenses] == sorted(truths)
    lens = settings.lenses[1]
    assert lens.data["image"] == str(tmp_path / "lenses" / "lens01" / "image.fits")
    assert Path(lens.data["noise"]).is_file()
    assert settings.shape == (20, 20) and settings.workers == 2 and settings.retries == 2
    assert settings.free_names == ("lens.theta_E", "source.R_sersic", "source.center_x",
                                   "source.center_y")
    assert settings.output_dir == tmp_path / "out"


def test_overrides_and_limit(survey, tmp_path):
    config, _ = survey(3)
    settings = load_batch(config, workers=1, retries=0, scheduler="tcp://127.0.0.1:1", limit=2)
    assert (settings.workers, settings.retries, settings.scheduler) == (1, 0, "tcp://127.0.0.1:1")
    assert [lens.name for lens in settings.lenses] == ["lens00", "lens01"]


def test_csv_catalogue_with_relative_paths_and_numbers(tmp_path):
    (tmp_path / "a").mkdir()
    table = tmp_path / "cat.csv"
    table.write_text("name,image,noise,pixel_scale\nB,a/b.fits,a/bn.fits,0.05\n"
                     "A,/abs/a.fits,,0.1\n")
    lenses = find_lenses({"table": "cat.csv"}, tmp_path)
    assert [lens.name for lens in lenses] == ["A", "B"]
    assert lenses[0].data == {"image": "/abs/a.fits", "pixel_scale": 0.1}
    assert lenses[1].data == {"image": str(tmp_path / "a" / "b.fits"),
                              "noise": str(tmp_path / "a" / "bn.fits"), "pixel_scale": 0.05}


@pytest.mark.parametrize("batch, message", [
    ({}, "batch: give exactly one of 'folder'"),
    ({"folder": "nowhere", "image": "{name}/i.fits"}, "batch.folder: not a folder"),
    ({"folder": "."}, "batch.image: missing"),
    ({"folder": ".", "image": "{lens}/i.fits"}, "batch.image: a template may use only {name}"),
    ({"table": "missing.csv"}, "batch.table: file not found"),
    ({"table": "bad.csv"}, "needs a 'name' column"),
    ({"table": "dup.csv"}, "lens 'x' appears twice"),
    ({"table": "slash.csv"}, "cannot name an output folder"),
    ({"table": "dup.csv", "image": "x"}, "batch.image: unknown key"),
    ({"folder": ".", "image": "{name}/i.fits"}, "batch: no lenses found"),
])
def test_catalogue_errors_name_the_key(tmp_path, batch, message):
    (tmp_path / "bad.csv").write_text("image\na.fits\n")
    (tmp_path / "dup.csv").write_text("name,image\nx,a.fits\nx,b.fits\n")
    (tmp_path / "slash.csv").write_text("name,image\n../x,a.fits\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        find_lenses(batch, tmp_path)


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.pop("batch"), "batch: missing section [batch]"),
    (lambda r: r["batch"].update(workers=0), "batch.workers: expected an integer ≥ 1"),
    (lambda r: r["batch"].update(retries=-1), "batch.retries: expected an integer ≥ 0"),
    (lambda r: r["batch"].update(shape=[20, "x"]), "batch.shape: expected positive integers"),
    (lambda r: r["batch"].update(x64="yes"), "batch.x64: expected true or false"),
    (lambda r: r["batch"].update(scheduler=5), "batch.scheduler: expected an address"),
    (lambda r: r["fit"][0].update(fitter="lbgfs"), "fit[0].fitter"),
    (lambda r: r["fit"][0].update(n_start=2), "n_start"),
    (lambda r: r["components"]["lens"].update(profile="SIZ"), "SIZ"),
    (lambda r: r["components"]["lens"]["params"].update(theta_e=1.0), "theta_e"),
    (lambda r: r["data"].update(image="x.fits"), "data.image: given both in [data] and"),
])
def test_config_errors_name_the_key_before_any_work(survey, tmp_path, edit, message):
    import tomllib

    config, _ = survey(2)
    raw = tomllib.loads(config.read_text())
    edit(raw)
    with pytest.raises((LensframeError, TypeError), match=re.escape(message)):
        from_dict(raw, base_dir=tmp_path)


def test_a_lens_with_bad_data_is_not_a_config_error_but_all_bad_is(survey, tmp_path):
    config, _ = survey(2)
    (tmp_path / "lenses" / "lens00" / "noise.fits").write_bytes(b"not a FITS file")
    settings = load_batch(config)  # lens01 validates the model
    assert len(settings.lenses) == 2
    (tmp_path / "lenses" / "lens01" / "noise.fits").unlink()
    with pytest.raises(DataError, match="no lens has readable data.*lens00.*data.noise"):
        load_batch(config)


def test_results_table_keeps_non_ascii_text_in_csv_and_escapes_it_in_fits(tmp_path):
    from astropy.table import Table

    from lensframe.survey.table import write_table

    rows = [{"name": "J0000", "status": "failed", "error": "θ_E prior … σ ≤ 0", "chi2": None},
            {"name": "J0001", "status": "done", "error": None, "chi2": 1.02}]
    paths = write_table(rows, tmp_path)
    assert "θ_E prior … σ ≤ 0" in paths["csv"].read_text()
    table = Table.read(paths["fits"])
    assert list(table["name"]) == ["J0000", "J0001"]
    assert "\\u03b8_E" in table["error"][0]
    chi2 = np.ma.filled(np.ma.asarray(table["chi2"], dtype=float), np.nan)
    assert np.isnan(chi2[0]) and chi2[1] == 1.02
