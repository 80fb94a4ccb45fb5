"""convsram report: one self-contained HTML file with the paper's figures, the critiques and sources."""

import base64
import re

import pytest

from convsram.cli import main
from convsram.core import baselines as digital
from tests.helpers import random_model_file


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    out = d / "r.html"
    code = main(["report", "--model", str(random_model_file(d)), "--out", str(out), "--images", "30",
                 "--chips", "2", "--scaling-chips", "1", "--scaling-images", "20", "--depth-images", "10"])
    assert code == 0
    return out.read_text()


def test_report_is_self_contained(report_html):
    assert "http://" not in report_html and "https://" not in report_html
    sources = re.findall(r'src="([^"]+)"', report_html)
    assert len(sources) >= 3  # the per-layer, scaling and baselines figures
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_puts_the_papers_figures_next_to_the_models(report_html):
    for paper in ("56.94 pJ", "150 ns", "28.1 TOPS/W", "&gt; 98 %"):
        assert paper in report_html
    assert "95 % interval" in report_html  # accuracies carry an interval


def test_report_answers_the_three_critiques_with_named_baselines(report_html):
    for heading in ("Critique: depth", "Critique: scaling", "Critique: why not a digital core"):
        assert heading in report_html
    for b in digital.BASELINES:
        assert b.name in report_html
    assert "charged to <b>both</b>" in report_html
    for node in ("65 nm", "45 nm", "28 nm", "22 nm", "7 nm"):
        assert node in report_html


def test_report_refuses_a_wrong_suffix_before_any_work(tmp_path, capsys):
    code = main(["report", "--out", str(tmp_path / "r.txt")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and not (tmp_path / "r.txt").exists()
