import json, os, time
from clientside.scenario import Run
from harness.verdict import Case
from test_csio_namespaces_events import _nsp01_connects, NSP01_POST_HOLD_S

def test_CSIO_NSP_01_zz_measure(run: Run, case: Case) -> None:
    n = int(os.environ.get("MEASURE_STARTS", "200"))
    run.need("multiplex")
    run.serve(first_post_waits_for_probe_s=NSP01_POST_HOLD_S)
    run.start(namespaces=["/", "/a"])
    run.connected("/")
    run.connected("/a")
    t0 = time.monotonic()
    starts = run.fresh_starts(n, joined=True)
    dt = time.monotonic() - t0
    bad = [(i, _nsp01_connects(run, st.connects or [])[1]) for i, st in enumerate(starts, 1) if not _nsp01_connects(run, st.connects or [])[0]]
    with open("/tmp/measure.jsonl", "a") as f:
        f.write(json.dumps({"starts": len(starts), "s": round(dt, 1), "load": os.getloadavg()[0], "bad": bad}) + "\n")
    case.check(True, "measure", "", "")
    for i, _ in bad[:6]:
        st = starts[i-1]
        with open(f"/tmp/measure-start-{os.getpid()}-{i}.json", "w") as f:
            json.dump({"transcript": st.server.transcript_json(), "lines": [e.item for e in st.fixture.lines], "stderr": st.fixture.stderr_tail()}, f, indent=1)
