"""Photometry files: MulensModel's shipped files read as MulensModel reads them; bad input named."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from lensframe.errors import DataError
from lensframe_micro.photometry import (flux_to_mag, mag_to_flux, photometry_from_arrays,
                                        read_photometry)


def ob161195(name):
    import MulensModel

    return Path(MulensModel.DATA_PATH) / "photometry_files" / "OB161195" / name


@pytest.mark.parametrize("name", ["KCT01I.dat", "KSS41I.dat"])  # KSS41I has a 4th column
def test_reads_mulensmodel_files_like_mulensmodel(name):
    import MulensModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KCT01I steps back in time once: sorted, with a warning
        phot = read_photometry(ob161195(name))
    ref = MulensModel.MulensData(file_name=str(ob161195(name)), add_2450000=True)
    order = np.argsort(ref.time, kind="stable")
    np.testing.assert_allclose(phot.time + 2450000.0, ref.time[order], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(phot.value, ref.mag[order])
    np.testing.assert_array_equal(phot.error, ref.err_mag[order])
    flux, err = phot.as_flux()
    np.testing.assert_allclose(flux, ref.flux[order], rtol=1e-12)
    np.testing.assert_allclose(err, ref.err_flux[order], rtol=1e-12)
    assert phot.name == Path(name).stem


@pytest.mark.parametrize("name,kind", [("OB03235_OGLE.tbl.txt", "mag"),
                                       ("OB03235_MOA.tbl.txt", "flux")])
def test_reads_ipac_tables_as_astropy_does(name, kind):
    """MulensModel's OGLE-2003-BLG-235 files are IPAC tables (keyword and column-header lines)."""
    import MulensModel
    from astropy.io import ascii

    path = Path(MulensModel.DATA_PATH) / "photometry_files" / "OB03235" / name
    phot = read_photometry(path, kind=kind)
    table = ascii.read(path, format="ipac")
    time, value, error = (np.asarray(table[c], float) for c in table.colnames[:3])
    assert phot.time.size == len(table) > 200
    np.testing.assert_allclose(phot.time, time - 2450000.0, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(phot.value, value)
    np.testing.assert_array_equal(phot.error, error)


def test_full_hjd_and_flux_files(tmp_path):
    rows = "2457000.5 18.0 0.01\n2457001.5 17.5 0.02  # comment\n\n2457002.5 17.9 0.01\n"
    (tmp_path / "full.dat").write_text("# time mag err\n" + rows)
    phot = read_photometry(tmp_path / "full.dat", name="X")
    np.testing.assert_allclose(phot.time, [7000.5, 7001.5, 7002.5])
    assert phot.name == "X"
    (tmp_path / "flux.dat").write_text("7000.5 -12.0 3.0\n7001.5 40.0 3.0\n")
    phot = read_photometry(tmp_path / "flux.dat", kind="flux")
    flux, err = phot.as_flux()
    np.testing.assert_array_equal(flux, [-12.0, 40.0])  # differential fluxes may be negative
    np.testing.assert_array_equal(err, [3.0, 3.0])


def test_magnitude_flux_round_trip_against_mulensmodel():
    import MulensModel

    mag = np.array([14.0, 18.3, 22.0, 23.5])
    err = np.array([0.01, 0.02, 0.1, 0.3])
    flux, flux_err = mag_to_flux(mag, err)
    ref_flux, ref_err = MulensModel.Utils.get_flux_and_err_from_mag(mag, err, zeropoint=22.0)
    np.testing.assert_allclose(flux, ref_flux, rtol=1e-13)
    np.testing.assert_allclose(flux_err, ref_err, rtol=1e-13)
    np.testing.assert_allclose(flux_to_mag(flux), mag, rtol=1e-13)
    assert np.isnan(flux_to_mag(np.array([-1.0]))[0])


BAD = {
    "missing column": ("7000.1 18.0 0.01\n7000.2 18.0\n", "line 2: expected 3 columns"),
    "not a number": ("7000.1 18.0 0.01\n7000.2 abc 0.01\n", "line 2: not a number"),
    "nan": ("7000.1 18.0 0.01\n7000.2 nan 0.01\n", "line 2: mag is nan"),
    "zero error": ("7000.1 18.0 0.01\n7000.2 18.0 0.0\n", "line 2: error must be > 0"),
    "negative error": ("# header\n7000.1 18.0 -0.01\n", "line 2: error must be > 0"),
    "duplicated": ("7000.1 18.0 0.01\n\n7000.1 18.1 0.01\n", "line 3: time 7000.1 repeats"),
    "duplicated after sort": ("7000.3 18.0 0.01\n7000.1 18.1 0.01\n7000.3 18.1 0.01\n",
                              "line 3: time 7000.3 repeats \\(line 1 has it too\\)"),
    "mixed hjd": ("7000.1 18.0 0.01\n2457000.2 18.0 0.01\n", "mix full HJD"),
    "empty": ("# nothing\n\n", "no data lines"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_files_name_file_and_line(tmp_path, case):
    text, message = BAD[case]
    path = tmp_path / "bad.dat"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        read_photometry(path)
    assert str(path) in str(info.value)


def test_unsorted_times_sorted_with_a_warning_or_an_error(tmp_path):
    path = tmp_path / "unsorted.dat"
    path.write_text("7000.1 18.0 0.01\n7000.3 18.3 0.03\n7000.2 18.2 0.02\n")
    with pytest.warns(UserWarning, match=r"line 3: time 7000.2 is earlier .* sorting"):
        phot = read_photometry(path)
    np.testing.assert_array_equal(phot.time, [7000.1, 7000.2, 7000.3])
    np.testing.assert_array_equal(phot.value, [18.0, 18.2, 18.3])
    np.testing.assert_array_equal(phot.error, [0.01, 0.02, 0.03])
    with pytest.raises(DataError, match=r"line 3: time 7000.2 is earlier"):
        read_photometry(path, unsorted="error")


def test_missing_file_and_bad_arrays(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_photometry(tmp_path / "absent.dat")
    with pytest.raises(DataError, match="different lengths"):
        photometry_from_arrays("A", [1.0, 2.0], [18.0], [0.1, 0.1], source="data.A")
    with pytest.raises(DataError, match=r"data.A, entry 1: error must be > 0"):
        photometry_from_arrays("A", [1.0, 2.0], [18.0, 18.0], [0.1, 0.0], source="data.A")
