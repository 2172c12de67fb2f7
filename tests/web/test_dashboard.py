"""The dashboard in headless Chromium against a real server: the example from upload to
fit, results, optimiser, scenarios and task list; its exploratory plots before any fit; a
broken file's problems; no request leaves the server's origin. Screenshots of each page
go to ``BAYESMMM_SCREENSHOTS``."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.datasets import example_path
from tests.service._server import Server

FIT_TIMEOUT_MS = 240_000


def _csv_rows(path: str | Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


def _download(page: Any, selector: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    return _csv_rows(download.path())


def _drop_file(page: Any, name: str, text: str) -> None:
    """Drag and drop a file onto the upload zone, as a person would."""
    page.evaluate("""([name, text]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], name, {type: "text/csv"}));
        const zone = document.getElementById("dropzone");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,
                                                    cancelable: true}));
        }
    }""", [name, text])


def _shot(page: Any, path: Path) -> None:
    """A full-page screenshot from the top (the header sticks to the top edge)."""
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def test_example_from_upload_to_budget(server: Server, open_page: Any,
                                       screenshots: Path) -> None:
    page, guard = open_page(server.url)
    page.goto(f"{server.url}/")
    page.wait_for_selector("#health.ok")
    assert re.search(r"API ok · v\S+ · 1 worker", page.inner_text("#health"))

    # 1. upload by drag and drop: the mapping is guessed and the data passes
    _drop_file(page, "mmm_example.csv", example_path().read_text(encoding="utf-8"))
    page.wait_for_selector("#validation-summary.ok")
    assert "The data passes: 179 rows" in page.inner_text("#validation-summary")
    assert page.input_value("#map-date_column") == "date_week"
    assert page.input_value("#map-y_column") == "y"
    checked = page.eval_on_selector_all("#map-channel_columns input:checked",
                                        "els => els.map(e => e.value)")
    assert checked == ["x1", "x2"]
    controls = page.eval_on_selector_all("#map-control_columns input:checked",
                                         "els => els.map(e => e.value)")
    assert controls == ["event_1", "event_2", "t"]
    statuses = page.eval_on_selector_all(".check", "els => els.map(e => e.dataset.status)")
    assert statuses and set(statuses) <= {"pass", "warn"}
    _shot(page, screenshots / "01-data.png")

    # 2. model options with tiny sampler settings, then start the fit
    page.click("#to-model")
    page.wait_for_selector("#model-form")
    page.fill("#opt-chains", "1")
    page.fill("#opt-warmup", "100")
    page.fill("#opt-draws", "100")
    _shot(page, screenshots / "02-model.png")
    page.click("#start-fit")

    # 3. the task's status, polled live, until it completes
    page.wait_for_function("() => /^#\\/tasks\\/[A-Za-z0-9_-]+$/.test(location.hash)")
    task_id = page.evaluate("location.hash").rsplit("/", 1)[1]
    page.wait_for_selector("#task-state")
    page.wait_for_function(
        "() => document.getElementById('task-state').textContent === 'completed'",
                           timeout=FIT_TIMEOUT_MS)
    assert "100%" in page.inner_text("#task-phase")
    status_text = page.inner_text("#task-status")
    assert "r2" in status_text and not re.search(r"\b(null|undefined|NaN)\b", status_text)
    assert page.inner_text("#task-verdict").startswith("Verdict: ")
    _shot(page, screenshots / "03-task.png")

    # 4. results: every plot drawn, tables downloadable as CSV
    page.click("#open-results")
    page.wait_for_function("() => document.querySelectorAll('#plots .js-plotly-plot .main-svg')"
                           ".length >= 7", timeout=120_000)
    assert page.locator("#plots .plot-error").count() == 0
    # contributions over time, as drawn: the media bands sit on top of a baseline that
    # never goes below zero, and seasonality is its own signed band below
    traces = page.evaluate("""() => document.querySelector("#plots [data-plot='contributions']")
        ._fullData.map(t => ({name: t.name, stack: t.stackgroup || "", axis: t.yaxis,
                              y: Array.from(t.y || [])}))""")
    stacked = [t for t in traces if t["stack"] == "stack"]
    names = [t["name"] for t in stacked]
    assert names[-2:] == ["x1", "x2"] and "intercept" in names[:-2], names
    assert all(min(t["y"]) >= 0 for t in stacked), [(t["name"], min(t["y"])) for t in stacked]
    signed = {t["name"]: t for t in traces if t["name"].endswith("(signed)")}
    assert "seasonality (signed)" in signed and signed["seasonality (signed)"]["axis"] == "y2"
    assert min(signed["seasonality (signed)"]["y"]) < 0 < max(signed["seasonality (signed)"]["y"])
    page.wait_for_selector("#result-tables table")
    assert page.locator("#results-panel").count() == 0  # a national fit: no panel selector
    roi = _download(page, "button[data-filename='roi.csv']")
    assert [row["channel"] for row in roi] == ["x1", "x2"]
    assert all(float(row["roi"]) > 0 for row in roi)
    contributions = _download(page, "button[data-filename='contributions.csv']")
    assert {"x1", "x2", "intercept"} <= {row["component"] for row in contributions}
    assert len(contributions) > 60  # all rows, not only those shown
    summary = _download(page, "button[data-filename='summary.csv']")
    assert "saturation_beta[x1]" in {row["parameter"] for row in summary}
    carry = _download(page, "button[data-filename='half_life.csv']")
    assert [row["channel"] for row in carry] == ["x1", "x2"]
    assert all(row["half_life"] == "" or float(row["half_life"]) >= 0 for row in carry)
    _shot(page, screenshots / "04-results.png")

    # 5. the budget optimiser with a bound: bar and pie, summary, numbers, CSV
    page.goto(f"{server.url}/#/optimize/{task_id}")
    page.fill("input.bound-low[data-channel='x1']", "0.5")
    page.fill("input.bound-high[data-channel='x1']", "2")
    page.fill("#opt-budget", "20")
    page.click("#run-optimizer")
    page.wait_for_selector("#allocation-bar .main-svg")
    page.wait_for_selector("#allocation-pie .main-svg")
    kinds = page.evaluate("""() => [document.getElementById('allocation-bar'),
        document.getElementById('allocation-pie')].map(el => el.data.map(t => t.type))""")
    assert set(kinds[0]) == {"bar"} and kinds[1] == ["pie", "pie"]
    assert "incremental sales" in page.inner_text("#optimizer-summary")
    # at a budget of 20 the current mix would put x1 above twice its spend: the plan is
    # compared with the current mix moved into the bounds, and the page says so
    assert "moved into the bounds" in page.inner_text("#optimizer-result")
    assert "outside the bounds" in page.inner_text("#optimizer-result")
    allocation = _download(page, "button[data-filename='allocation.csv']")
    assert [row["channel"] for row in allocation] == ["x1", "x2", "total"]
    assert float(allocation[-1]["optimal"]) == pytest.approx(20)
    x1 = allocation[0]
    assert float(x1["lower"]) == pytest.approx(0.5 * float(x1["historical"]), rel=1e-6)
    assert float(x1["upper"]) == pytest.approx(2 * float(x1["historical"]), rel=1e-6)
    _shot(page, screenshots / "05-optimizer.png")

    # 5b. what if x1 got 10 more over a quarter: the recommendation in words, the numbers
    page.select_option("#whatif-channel", "x1")
    page.fill("#whatif-amount", "10")
    page.fill("#whatif-periods", "13")
    page.click("#run-whatif")
    advice = page.wait_for_selector("#whatif-recommendation").inner_text()
    assert re.match(r"(Recommended|Not recommended|Uncertain)\. Adding 10 to 'x1' over 13 "
                    r"periods is expected to bring", advice)
    assert re.match(r"-?[\d,.]+ \(HDI -?[\d,.]+ – -?[\d,.]+\)$",
                    page.inner_text("#whatif-sales"))
    assert re.search(r"\d.* → .*\d", page.inner_text("#whatif-marginal"))
    assert any(r.url == f"{server.url}/v1/tasks/{task_id}/what-if" and r.method == "POST"
               for r in guard.requests)
    assert guard.outside == []
    _shot(page, screenshots / "11-whatif.png")

    # 6. scenarios side by side
    page.click("a[href^='#/scenarios/']")
    page.wait_for_selector("#scenario-form")
    page.click("#run-scenarios")
    page.wait_for_selector("#scenario-chart .main-svg")
    table = page.inner_text("#scenario-result table")
    for name in ("current", "more media", "less media", "shift to x1"):
        assert name in table
    rows = _download(page, "button[data-filename='scenarios.csv']")
    by_name = {row["scenario"]: row for row in rows}
    assert float(by_name["more media"]["sales_change"]) > 0 > float(
        by_name["less media"]["sales_change"])
    _shot(page, screenshots / "06-scenarios.png")

    # 7. the task list
    page.click("#nav a[data-view='tasks']")
    page.wait_for_selector(f"#task-list tr[data-task='{task_id}'][data-status='completed']")
    _shot(page, screenshots / "07-tasks.png")

    assert any(r.url.endswith("/vendor/plotly.min.js") for r in guard.requests)


def _geo_fit(server: Server) -> tuple[str, pd.DataFrame]:
    """A tiny fit of two geos (the example twice, x1 doubled in the south) through the
    API: its task id and the table."""
    north = bm.example_data().assign(geo="north")
    south = bm.example_data().assign(geo="south", x1=lambda d: 2 * d["x1"])
    table = pd.concat([north, south], ignore_index=True)
    form = {"date_column": "date_week", "y_column": "y", "channel_columns": "x1,x2",
            "control_columns": "event_1,event_2,t", "panel_columns": "geo", "chains": "1",
            "warmup": "50", "draws": "50", "seed": "1"}
    r = httpx.post(f"{server.url}/v1/tasks", data=form, timeout=60,
                   files={"file": ("geo.csv", table.to_csv(index=False).encode(), "text/csv")})
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    deadline = time.monotonic() + FIT_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/v1/tasks/{task_id}", timeout=30).json()
        if status["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.5)
    assert status["status"] == "completed", status
    return task_id, table


def test_a_geo_fit_shows_each_panel_cell(server: Server, open_page: Any,
                                         screenshots: Path) -> None:
    task_id, _ = _geo_fit(server)
    per_cell = httpx.get(f"{server.url}/v1/tasks/{task_id}/roi", params={"level": "panel"},
                         timeout=60).json()["rows"]
    south = {r["channel"]: r["roi"] for r in per_cell if r["panel"] == "south"}
    total = {r["channel"]: r["roi"] for r in httpx.get(
        f"{server.url}/v1/tasks/{task_id}/roi", timeout=60).json()["rows"]}
    assert south.keys() == {"x1", "x2"} and south["x1"] != pytest.approx(total["x1"])

    page, guard = open_page(server.url)
    page.goto(f"{server.url}/#/results/{task_id}")
    page.wait_for_selector("#results-panel")
    options = page.eval_on_selector_all("#results-panel option", "els => els.map(e => e.text)")
    assert options == ["All panels (total)", "north", "south"]
    bars = "() => [...document.querySelector(\"#plots [data-plot='roi']\")._fullData[0].y]"
    page.wait_for_function("() => document.getElementById('plots').dataset.drawn === ''",
                           timeout=120_000)
    assert page.evaluate(bars) == pytest.approx([total["x1"], total["x2"]], rel=1e-9)

    page.select_option("#results-panel", "south")
    page.wait_for_function("() => document.getElementById('plots').dataset.drawn === 'south'",
                           timeout=120_000)
    assert page.locator("#plots .plot-error").count() == 0
    assert page.evaluate(bars) == pytest.approx([south["x1"], south["x2"]], rel=1e-9)
    plotted = [r for r in guard.requests if f"/tasks/{task_id}/plots/" in r.url]
    assert sum(r.url.endswith("?panel=south") for r in plotted) == 7
    roi_table = page.inner_text("#roi-table")
    assert "ROI: panel south" in roi_table and "north" not in roi_table
    rows = _download(page, "#roi-table button[data-filename='roi_south.csv']")
    assert [(r["channel"], r["panel"]) for r in rows] == [("x1", "south"), ("x2", "south")]
    assert float(rows[0]["roi"]) == pytest.approx(south["x1"], rel=1e-12)
    _shot(page, screenshots / "12-results-geo.png")

    page.select_option("#results-panel", "")  # back to the total
    page.wait_for_function("() => document.getElementById('plots').dataset.drawn === ''")
    assert page.evaluate(bars) == pytest.approx([total["x1"], total["x2"]], rel=1e-9)
    assert guard.outside == []


def test_explore_the_example_before_any_fit(server: Server, open_page: Any,
                                            screenshots: Path) -> None:
    from bayesmmm.report import eda_figures

    expected = list(eda_figures(bm.prepare(bm.example_data(),
                                           **bm.example_spec().data_kwargs())[0]))
    page, guard = open_page(server.url)
    page.goto(f"{server.url}/#/explore")  # nothing checked yet: the page says what to do
    assert "check it first" in page.wait_for_selector("#view .card").inner_text()
    page.goto(f"{server.url}/#/data")
    _drop_file(page, "mmm_example.csv", example_path().read_text(encoding="utf-8"))
    page.wait_for_selector("#validation-summary.ok")
    page.click("#explore-data")
    page.wait_for_function(
        """n => [...document.querySelectorAll('#explore-plots .js-plotly-plot')]
                .filter(el => el.querySelector('.main-svg')).length === n""",
        arg=len(expected), timeout=120_000)
    drawn = page.eval_on_selector_all("#explore-plots .js-plotly-plot",
                                      "els => els.map(e => e.dataset.plot)")
    assert drawn == expected
    assert page.locator("#explore-plots .plot-error").count() == 0
    # each figure holds the traces the service sent (e.g. one scatter per channel)
    scatter = page.evaluate("""() => document.querySelector("[data-plot='sales_vs_spend']")
                               .data.map(t => t.name)""")
    assert scatter == ["x1", "x2"]
    summary = page.inner_text("#explore-summary")
    assert "179 weekly periods from 2018-04-02 to 2021-08-30" in summary
    assert "1 outlier period" in summary
    assert page.get_attribute("#nav a[data-view='data']", "class") == "active"
    explored = [r for r in guard.requests if r.url == f"{server.url}/v1/explore"]
    assert len(explored) == 1 and explored[0].method == "POST"
    assert guard.outside == []
    _shot(page, screenshots / "10-explore.png")
    page.click("#explore-to-model")
    page.wait_for_selector("#model-form")


def test_a_broken_file_lists_its_problems_with_fixes(server: Server, open_page: Any,
                                                     tmp_path: Path, screenshots: Path
                                                     ) -> None:
    page, _ = open_page(server.url)
    broken = bm.example_data().drop(columns=["y"])
    broken["date_week"] = broken["date_week"].astype(str)
    broken.loc[5, "date_week"] = "2018-13-45"
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False)

    page.goto(f"{server.url}/#/data")
    page.set_input_files("#file-input", str(path))
    page.wait_for_selector("#mapping-needed")  # no target to guess: the page asks for one
    assert "target" in page.inner_text("#mapping-needed")
    page.fill("#map-y_column", "y")  # the column the user expects
    page.click("#check-data")
    page.wait_for_selector("#validation-summary.bad")
    assert "2 problems stop the fit" in page.inner_text("#validation-summary")
    problems = {el["code"]: el for el in page.eval_on_selector_all(
        ".problem", """els => els.map(e => ({code: e.dataset.code, text: e.innerText,
                     fix: e.querySelector('code.fix')?.textContent,
                     copy: !!e.querySelector('button.copy')}))""")}
    assert set(problems) == {"missing_column", "bad_date_format"}
    assert "2018-13-45" in problems["bad_date_format"]["text"]
    assert "pd.to_datetime(df['date_week']" in problems["bad_date_format"]["fix"]
    assert problems["missing_column"]["fix"] and all(p["copy"] for p in problems.values())
    failed = page.eval_on_selector_all(".check.fail .check-head",
                                       "els => els.map(e => e.innerText)")
    assert any("Columns present" in f for f in failed)
    assert any("Dates readable" in f for f in failed)
    assert page.get_attribute("#to-model", "aria-disabled") == "true"
    _shot(page, screenshots / "08-broken-file.png")


def test_api_errors_read_as_sentences(server: Server, open_page: Any) -> None:
    page, _ = open_page(server.url)
    page.goto(f"{server.url}/#/results/AAAAAAAAAAAAAAAAAAAAAA")
    message = page.wait_for_selector(".summary-line.bad").inner_text()
    assert "no task 'AAAAAAAAAAAAAAAAAAAAAA'" in message and "Fix:" in message
    page.goto(f"{server.url}/#/data")
    page.set_input_files("#file-input", files=[{"name": "notes.csv", "mimeType": "text/csv",
                                                "buffer": b"\x00\x01\x02binary"}])
    alert = page.wait_for_selector("#alert:not([hidden])").inner_text()
    assert "notes.csv" in alert and "Traceback" not in alert
    assert json.loads(page.evaluate("JSON.stringify(document.body.dataset)"))["view"] == "data"


def test_service_advice_names_the_fields_as_the_pages_do(server: Server,
                                                         open_page: Any) -> None:
    page, _ = open_page(server.url)
    page.goto(server.url)
    page.wait_for_selector("#health.ok")
    worded = page.evaluate("""async (url) => {
        const advice = await import(url);
        return [advice.forPage('Refit with more draws (e.g. warmup=2000 and draws=2000).'),
                advice.forPage('Plan over n_periods=13 with budget=5.5.'),
                advice.forPage('nothing to translate here, x=1')];
    }""", f"{server.url}/static/js/advice.js")
    assert worded[0] == ("Refit with more draws (e.g. “Warm-up draws per chain” 2000 and "
                         "“Draws per chain” 2000 on the Model page).")
    assert worded[1] == ("Plan over “Periods to plan” 13 with “Total budget” 5.5 on the "
                         "Budget page.")
    assert worded[2] == "nothing to translate here, x=1"


def _example_on_the_model_page(page: Any, server: Server) -> None:
    """Upload the bundled example, wait for it to pass, and open the Model page."""
    page.goto(f"{server.url}/")
    page.wait_for_selector("#health.ok")
    _drop_file(page, "mmm_example.csv", example_path().read_text(encoding="utf-8"))
    page.wait_for_selector("#validation-summary.ok")
    page.click("#to-model")
    page.wait_for_selector("#model-form")


def test_the_model_page_sets_calendar_priors_experiments_and_costs(
        server: Server, open_page: Any, screenshots: Path) -> None:
    page, guard = open_page(server.url)
    _example_on_the_model_page(page, server)
    for field, value in (("#opt-chains", "1"), ("#opt-warmup", "100"), ("#opt-draws", "100")):
        page.fill(field, value)
    page.click("#model-advanced > summary")
    page.fill("#opt-holidays", "us")
    page.click("#event-rows-add")
    page.fill("#event-rows .event-name", "launch")
    page.fill("#event-rows .event-dates", "2019-11-25..2019-12-01, 2020-06-01")
    page.click("#prior-rows-add")
    page.fill("#prior-rows .prior-name", "intercept")
    page.press("#prior-rows .prior-name", "Tab")  # the default prior fills in on change
    page.wait_for_function("() => document.querySelector('#prior-rows .prior-param')"
                           ".value !== ''")
    page.select_option("#prior-rows .prior-dist", "Normal")
    page.fill("#prior-rows .prior-param[data-param='loc']", "0.5")
    page.fill("#prior-rows .prior-param[data-param='scale']", "0.3")
    page.click("#lift-rows-add")
    page.select_option("#lift-rows .lift-channel", "x1")
    page.fill("#lift-rows .lift-start", "2020-03-02")
    page.fill("#lift-rows .lift-end", "2020-03-30")
    page.fill("#lift-rows .lift-spend", "2")
    page.fill("#lift-rows .lift-value", "900")
    page.fill("#lift-rows .lift-se", "150")
    page.fill("input.cost-per-unit[data-channel='x2']", "1.5")
    _shot(page, screenshots / "02b-model-advanced.png")
    page.click("#start-fit")
    page.wait_for_function("() => /^#\\/tasks\\/[A-Za-z0-9_-]+$/.test(location.hash)")
    task_id = page.evaluate("location.hash").rsplit("/", 1)[1]

    stored = httpx.get(f"{server.url}/v1/tasks/{task_id}", timeout=60).json()["spec"]
    assert stored["holidays"] == ["US"]
    assert stored["events"] == {"launch": [["2019-11-25", "2019-12-01"], "2020-06-01"]}
    assert stored["priors"]["intercept"] == {"dist": "Normal", "params": {"loc": 0.5,
                                                                          "scale": 0.3}}
    (lift,) = stored["lift_tests"]
    assert {k: lift[k] for k in ("channel", "start", "end", "spend_change", "lift",
                                 "lift_se")} == {
        "channel": "x1", "start": "2020-03-02", "end": "2020-03-30", "spend_change": 2.0,
        "lift": 900.0, "lift_se": 150.0}
    assert stored["cost_per_unit"] == {"x2": 1.5}
    page.wait_for_selector("#task-state")
    page.wait_for_function(
        "() => document.getElementById('task-state')?.textContent === 'completed'",
        timeout=FIT_TIMEOUT_MS)
    summary = httpx.get(f"{server.url}/v1/tasks/{task_id}/summary", timeout=60).json()
    names = {row["parameter"] for row in summary["summary"]}
    assert any(n.startswith("gamma_control[") and "launch" in n for n in names), names
    assert guard.outside == []


def test_automatic_structure_from_the_model_page_to_its_structures(
        server: Server, open_page: Any, screenshots: Path) -> None:
    page, guard = open_page(server.url)
    _example_on_the_model_page(page, server)
    assert page.locator("#forms-candidates").is_hidden()
    page.select_option("#opt-forms", "auto")
    assert page.locator("#forms-candidates").is_visible()
    assert page.is_disabled("#opt-adstock") and page.is_disabled("#opt-saturation")
    defaults = page.eval_on_selector_all("#forms-adstock input:checked",
                                         "els => els.map(e => e.value)")
    assert defaults == ["delayed", "geometric", "weibull_pdf"]
    # two candidates keep the search to seconds: geometric or delayed, logistic
    for kind, keep in (("adstock", {"geometric", "delayed"}), ("saturation", {"logistic"})):
        for box in page.locator(f"#forms-{kind} input").all():
            box.set_checked(box.get_attribute("value") in keep)
    for field, value in (("#opt-chains", "2"), ("#opt-warmup", "200"), ("#opt-draws", "150"),
                         ("#opt-seed", "3")):
        page.fill(field, value)
    _shot(page, screenshots / "02c-model-structure.png")
    page.click("#start-fit")
    page.wait_for_function("() => /^#\\/tasks\\/[A-Za-z0-9_-]+$/.test(location.hash)")
    task_id = page.evaluate("location.hash").rsplit("/", 1)[1]
    status = httpx.get(f"{server.url}/v1/tasks/{task_id}", timeout=60).json()
    assert status["forms"] == {"adstock": ["delayed", "geometric"], "saturation": ["logistic"]}
    assert "adstock" not in status["spec"] or status["spec"]["adstock"] == "geometric"
    page.wait_for_selector("#task-state")
    page.wait_for_function(
        "() => document.getElementById('task-state')?.textContent === 'completed'",
        timeout=FIT_TIMEOUT_MS)
    assert page.inner_text("#task-structure").startswith("averaged: ")
    page.wait_for_selector("#structures-table")

    page.click("#open-results")
    # the results page's own table: until it renders, the task page's table may still be
    # there and then go (rows read in between came back empty)
    page.wait_for_function(
        "() => document.querySelector('h1')?.textContent.startsWith('Results:') &&"
        " document.querySelectorAll('#structures-table tbody tr').length >= 2")
    rows = page.eval_on_selector_all("#structures-table tbody tr",
                                     "els => els.map(e => e.cells[0].textContent)")
    assert set(rows) == {"geometric+logistic", "delayed+logistic"}
    assert "averaged over structures" in page.inner_text("#structures-table")
    assert page.inner_text("#fit-line").startswith("Fit of mmm_example.csv")
    assert "averaged: " in page.inner_text("#fit-line")
    page.wait_for_function("() => document.querySelectorAll('#plots .js-plotly-plot .main-svg')"
                           ".length >= 7", timeout=120_000)
    assert page.locator("#plots .plot-error").count() == 0
    page.wait_for_selector("#result-tables table")
    _shot(page, screenshots / "04b-results-structures.png")

    page.goto(f"{server.url}/#/tasks")
    page.wait_for_selector(f"tr[data-task='{task_id}'] td.fit-model[data-averaged='1']")
    assert guard.outside == []
