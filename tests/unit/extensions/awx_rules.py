"""AWX's own rules, reimplemented for the tests (AWX itself does not install here: Django app).

Sources (ansible/awx, Apache License 2.0), reimplemented faithfully, not imported:

* playbook discovery: ``awx/main/utils/ansible.py`` (``valid_playbook_re``, ``skip_directory``,
  ``could_be_playbook``) and ``awx/main/models/projects.py`` (``ProjectOptions.playbooks``, which
  walks the project directory with ``os.walk`` and calls ``skip_directory(dirpath)`` on the
  *absolute* directory path, then ``could_be_playbook`` on every file);
  https://github.com/ansible/awx/blob/devel/awx/main/utils/ansible.py
* survey validation: ``awx/api/views/__init__.py`` ``JobTemplateSurveySpec.ALLOWED_TYPES`` and
  ``JobTemplateSurveySpec._validate_spec_data`` (what the API answers 400 to when the awx.awx
  ``job_template`` module posts ``survey_spec``).
"""

from __future__ import annotations

import codecs
import os
import re

# awx/main/utils/ansible.py
VALID_PLAYBOOK_RE = re.compile(r"^\s*?-?\s*?(?:hosts|include|import_playbook):\s*?.*?$")


def skip_directory(relative_directory_path: str) -> bool:
    """awx/main/utils/ansible.py ``skip_directory``."""
    path_elements = relative_directory_path.split(os.sep)
    if "roles" in path_elements:
        return True
    if "tasks" in path_elements:
        return True
    for element in path_elements:
        if element.startswith("."):
            return True
    return "group_vars" in path_elements or "host_vars" in path_elements


def could_be_playbook(project_path: str, dir_path: str, filename: str) -> str | None:
    """awx/main/utils/ansible.py ``could_be_playbook``: relative path, or None."""
    if os.path.splitext(filename)[-1] not in [".yml", ".yaml"]:
        return None
    playbook_path = os.path.join(dir_path, filename)
    matched = False
    try:
        with codecs.open(playbook_path, "r", encoding="utf-8", errors="ignore") as handle:
            for n, line in enumerate(handle):
                if VALID_PLAYBOOK_RE.match(line):
                    matched = True
                    break
                # vault-encrypted files count as playbooks too
                if n == 0 and line.startswith("$ANSIBLE_VAULT;"):
                    matched = True
                    break
    except OSError:
        return None
    if not matched:
        return None
    return os.path.relpath(playbook_path, project_path)


def project_playbooks(project_path: str, followlinks: bool = False) -> list[str]:
    """awx/main/models/projects.py ``ProjectOptions.playbooks`` (AWX_SHOW_PLAYBOOK_LINKS=False)."""
    results = []
    for dirpath, _dirnames, filenames in os.walk(project_path, followlinks=followlinks):
        if skip_directory(dirpath):
            continue
        for filename in filenames:
            playbook = could_be_playbook(project_path, dirpath, filename)
            if playbook is not None:
                results.append(playbook)
    return sorted(results, key=lambda x: x.lower())


# awx/api/views/__init__.py JobTemplateSurveySpec
SURVEY_ALLOWED_TYPES: dict[str, type] = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": float,
}


def survey_spec_errors(new_spec: dict) -> list[str]:
    """The error ``JobTemplateSurveySpec._validate_spec_data`` would answer (new spec, no old one)."""
    errors = []
    for field, expect_type, label in (
        ("name", str, "string"),
        ("description", str, "string"),
        ("spec", list, "list of items"),
    ):
        if field not in new_spec:
            errors.append(f"Field '{field}' is missing from survey spec.")
        elif not isinstance(new_spec[field], expect_type):
            errors.append(
                f"Expected {label} for field '{field}', received {type(new_spec[field]).__name__} type."
            )
    if isinstance(new_spec.get("spec"), list) and len(new_spec["spec"]) < 1:
        errors.append("'spec' doesn't contain any items.")
    if errors:
        return errors

    variables: set[str] = set()
    for idx, item in enumerate(new_spec["spec"]):
        if not isinstance(item, dict):
            return [f"Survey question {idx} is not a json object."]
        for field_name in ("type", "question_name", "variable", "required"):
            if field_name not in item:
                return [f"'{field_name}' missing from survey question {idx}"]
            allow, label = (bool, "boolean") if field_name == "required" else (str, "string")
            if not isinstance(item[field_name], allow):
                return [f"'{field_name}' in survey question {idx} expected to be {label}."]
        if item["variable"] in variables:
            return [f"'variable' '{item['variable']}' duplicated in survey question {idx}."]
        variables.add(item["variable"])
        qtype = item["type"]
        if qtype not in SURVEY_ALLOWED_TYPES:
            return [f"'{qtype}' in survey question {idx} is not one of the allowed question types."]
        default_given = "default" in item and item["default"] != ""
        if default_given and not isinstance(item["default"], SURVEY_ALLOWED_TYPES[qtype]):
            return [f"Default value {item['default']} in survey question {idx} has the wrong type."]
        for key in ("min", "max"):
            if key in item and item[key] is not None and not isinstance(item[key], int):
                return [f"The {key} limit in survey question {idx} expected to be integer."]
        if qtype in ("multiselect", "multiplechoice"):
            if "choices" not in item:
                return [f"Survey question {idx} of type {qtype} must specify choices."]
            if "default" in item:
                default = item["default"]
                defaults = (
                    [c for c in default.splitlines() if c.strip() != ""]
                    if isinstance(default, str)
                    else default
                )
                if qtype == "multiplechoice" and len(defaults) > 1:
                    return ["Multiple Choice (Single Select) can only have one default value."]
                if any(d not in item["choices"] for d in defaults):
                    return ["Default choice must be answered from the choices listed."]
        if isinstance(item.get("default"), str) and item["default"].startswith("$encrypted$"):
            return [f"$encrypted$ is a reserved keyword, may not be used for new default in position {idx}."]
    return []
