# Rollups, objectives and the management review arrive with the reports issue.
