"""flowreg's legal knowledge: a data file with sources, and the typed view the engine reads."""

from lineage.law.knowledge import Adequacy, FrameworkInfo, Law, SccRule, load_law

__all__ = ["Adequacy", "FrameworkInfo", "Law", "SccRule", "load_law"]
