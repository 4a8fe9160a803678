"""The service's figures for its commissioners (issue 11): counted by quarter from codes and times only,
with small counts hidden so no figure can point at a person (`figures.rules`)."""
