"""Shared pytest fixtures."""
import os

import pytest

import libreoffice


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of LibreOffice's soffice; skips when missing, fails instead when $CI is set."""
    path = libreoffice.soffice_path()
    if path is None:
        msg = "LibreOffice not found: install libreoffice-calc, libreoffice-writer-nogui, fonts-noto-cjk and poppler-utils"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path
