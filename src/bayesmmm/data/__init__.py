"""Data layer: read a table (a file, a URL, Kaggle or a database), validate it, turn
it into arrays."""

from bayesmmm.data._calendar import event_features, holiday_countries, holiday_features
from bayesmmm.data._load import load_table
from bayesmmm.data._mmmdata import MMMData, prepare
from bayesmmm.data._sources import read_source
from bayesmmm.data._validate import Problem, ValidationReport, n_model_parameters, validate

__all__ = ["MMMData", "Problem", "ValidationReport", "event_features", "holiday_countries",
           "holiday_features", "load_table", "n_model_parameters", "prepare", "read_source",
           "validate"]
