"""A model trained once per test session on the shipped corpus (as ``flask triage train``
would before any history), written to a file the app fixtures point at."""
from __future__ import annotations

import shutil

import joblib
import pytest

from hotline.services import triage as triage_service
from hotline.triage import corpus
from hotline.triage.model import train


@pytest.fixture(scope="session")
def corpus_model():
    return train(corpus.training_set())


@pytest.fixture(scope="session")
def corpus_model_file(corpus_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("triage") / "model.joblib"
    joblib.dump(corpus_model, path)
    return path


@pytest.fixture
def model_path(tmp_path):
    return tmp_path / "instance" / "triage-model.joblib"


@pytest.fixture
def app_config(model_path):
    return {"TRIAGE_MODEL_PATH": str(model_path), "TRIAGE_AUTO_TRAIN": False}


@pytest.fixture
def with_model(app, corpus_model_file, model_path):
    model_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(corpus_model_file, model_path)
    triage_service.reset_caches()
    yield model_path
    triage_service.reset_caches()
