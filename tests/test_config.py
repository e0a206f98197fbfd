"""The configuration reproduces the notice, and mistakes point at the file line and key."""

from datetime import date
from pathlib import Path

import pytest

from intake.campaigns.campaign import Campaign, load_campaigns
from intake.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_reproduces_the_shuangliu_notice():
    settings = load_config(EXAMPLE).settings
    campaign = settings.campaigns["shuangliu-2021"]
    assert campaign.stages["submission"].deadline == date(2021, 5, 21)
    assert campaign.timezone == "Asia/Shanghai"
    assert campaign.groups["primary"].mailbox.account == "1036303270@qq.com"
    assert campaign.groups["junior"].mailbox.account == "8762808@qq.com"
    for group in campaign.groups.values():
        box = group.mailbox
        assert (box.imap_host, box.imap_port, box.imap_tls) == ("imap.qq.com", 993, True)
        assert (box.smtp_host, box.smtp_port, box.smtp_tls) == ("smtp.qq.com", 465, True)
        assert box.folders == ("INBOX", "Junk")
    report, case = campaign.kinds["report"], campaign.kinds["case"]
    assert (report.required, report.max_per_school, report.max_signatories) == (True, 1, 5)
    assert (case.required, case.max_per_school, case.max_signatories) == (False, 2, 2)
    assert case.max_chars == 2500


def test_every_key_in_the_example_is_commented():
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            above = lines[number - 1].strip()
            key = line.split("=")[0].strip()
            documented = above.startswith("#") or "#" in line or _in_commented_block(lines, number)
            assert documented, f"line {number + 1}: key {key} has no comment"


def _in_commented_block(lines, number):
    # Keys of a block share the comment at its top, e.g. host and port of one server.
    while number > 0 and "=" in lines[number - 1] and not lines[number - 1].startswith("["):
        number -= 1
    return lines[number - 1].strip().startswith("#")


def _broken(tmp_path, old, new):
    text = EXAMPLE.read_text(encoding="utf-8").replace(old, new, 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_an_invalid_value_names_the_file_line_and_key(tmp_path):
    path, text = _broken(tmp_path, "max_per_school = 2", "max_per_school = -1")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == "max_per_school = -1")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:{line}: campaigns.shuangliu-2021.kinds.case.max_per_school" in str(caught.value)


def test_a_missing_key_points_at_its_table(tmp_path):
    path, text = _broken(tmp_path, 'account = "8762808@qq.com"', "")
    line = next(
        n
        for n, t in enumerate(text.splitlines(), 1)
        if t == "[campaigns.shuangliu-2021.groups.junior.mailbox]"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{path}:{line}: campaigns.shuangliu-2021.groups.junior.mailbox.account" in message


def test_a_mailbox_without_a_code_source_says_how_to_give_one(tmp_path):
    path, _ = _broken(tmp_path, 'auth_env = "INTAKE_JUNIOR_AUTH_CODE"', "")
    with pytest.raises(ConfigError, match=r"give either auth_env .* or auth_file"):
        load_config(path)


def test_an_unknown_key_is_refused(tmp_path):
    path, _ = _broken(tmp_path, "grace_minutes = 0", "grace_minutes = 0\ndeadlin = 2021-05-22")
    with pytest.raises(ConfigError, match="deadlin"):
        load_config(path)


def test_a_missing_authorization_code_says_which_variable(monkeypatch):
    monkeypatch.delenv("INTAKE_PRIMARY_AUTH_CODE", raising=False)
    box = load_config(EXAMPLE).settings.campaigns["shuangliu-2021"].groups["primary"].mailbox
    with pytest.raises(ConfigError, match="INTAKE_PRIMARY_AUTH_CODE"):
        box.auth_code()


def test_deadline_is_the_end_of_the_day_in_the_campaign_zone():
    campaign: Campaign = load_campaigns(load_config(EXAMPLE))[0]
    assert campaign.stages()[0].closes_at().isoformat() == "2021-05-22T00:00:00+08:00"


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        (
            "deadline = 2022-02-21\ngrace_minutes = 0\n\n# Stage 2",
            "deadline = 2022-12-31\ngrace_minutes = 0\n\n# Stage 2",
            "order of their deadlines",
        ),
        ('registered_in = "topics"', 'registered_in = "contacts"', "not a table of cases"),
        (
            'kind = "topics"\nper = "district"\nlevel = "school"',
            'kind = "final"\nper = "district"\nlevel = "school"',
            "not a registration table",
        ),
        ("max = 3\nmin = 1", "max = 3\nmin = 4", "min 4 is above max 3"),
        (
            'label = "参评案例"\nstage = "final"',
            'label = "参评案例"\nstage = "judging"',
            "no stage 'judging'",
        ),
        (
            'name = "案例标题"\naliases = ["案例名称", "标题"]\nrequired = true\nrole = "title"',
            'name = "案例标题"\naliases = ["案例名称", "标题"]\nrequired = true',
            'role = "title"',
        ),
        ('label = "报告"', 'label = "报告"\nfallback = true', None),  # one fallback: fine
    ],
)
def test_a_campaign_that_cannot_work_is_refused_at_start(tmp_path, old, new, complaint):
    path, _ = _broken(tmp_path, old, new)
    if complaint is None:
        load_config(path)
        return
    with pytest.raises(ConfigError, match=complaint.replace("(", r"\(")):
        load_config(path)


def test_two_fallback_kinds_are_refused(tmp_path):
    path, _ = _broken(tmp_path, 'label = "改进案例"', 'label = "改进案例"\nfallback = true')
    text = path.read_text(encoding="utf-8").replace(
        'label = "报告"', 'label = "报告"\nfallback = true', 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="only one kind may have fallback"):
        load_config(path)
