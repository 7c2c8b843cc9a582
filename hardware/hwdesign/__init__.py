"""twitchwatch's hardware described as code: pin map checks, schematic (SKiDL), BOM,
budgets and drawings. Run ``python hardware/build.py`` to regenerate every output."""
