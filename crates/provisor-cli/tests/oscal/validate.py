"""Validates OSCAL JSON documents with compliance-trestle's OSCAL models, an
implementation independent of provisor. Usage: validate.py FILE...; each file holds
one system-security-plan, assessment-plan or assessment-results document. Exits 1 and
prints the model's complaint for the first that does not validate."""

import json
import sys

from trestle.oscal import assessment_plan, assessment_results, ssp

MODELS = {
    "system-security-plan": ssp.Model,
    "assessment-plan": assessment_plan.Model,
    "assessment-results": assessment_results.Model,
}

for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    (root,) = document.keys()
    try:
        MODELS[root].model_validate(document)
    except Exception as error:  # the model's own message names the field
        print(f"{path}: {root}: {error}")
        sys.exit(1)
print(f"{len(sys.argv) - 1} documents valid")
