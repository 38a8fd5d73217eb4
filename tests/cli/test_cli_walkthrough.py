"""docs/cli.md's walk-through, run exactly as written: every ```sh block of the
"Walk-through" section, in order, in one bash with -euo pipefail, in an empty folder, with gpurent
on PATH, EX naming examples/cli and the fake H100 standing in for a GPU (as the section says)."""
import json
import os
import re
import subprocess
import time

CLI = os.environ.get("GPURENT_CLI", "build/gpurent")
BUILD = os.environ.get("GPURENT_TEST_BUILD", "build")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "docs", "cli.md")


def walkthrough_blocks():
    text = open(DOC, encoding="utf-8").read()
    section = text[text.index("## Walk-through"):]
    nxt = re.search(r"^## ", section[3:], re.M)
    if nxt:
        section = section[:nxt.start() + 3]
    return section, re.findall(r"^```sh\n(.*?)^```", section, re.S | re.M)


def test_the_section_says_how_it_is_run():
    section, blocks = walkthrough_blocks()
    assert len(blocks) >= 5
    assert 'EX="$PWD/examples/cli"' in section and "libfakecuda.so" in section and "FAKECUDA_MACHINE=h100" in section
    used = set(re.findall(r"\$EX/([\w.]+)", "\n".join(blocks)))
    assert used == {"offer.json", "audit.json", "request.json"}
    for name in used:
        assert os.path.isfile(os.path.join(ROOT, "examples", "cli", name)), name
    # Every file a step reads is made by an earlier step or is an example.
    script = "\n".join(blocks)
    for made in ("matcher1.key", "matcher2.key", "matchers.json", "trust.json", "provider.key", "auditor.key"):
        assert re.search(rf"(-o|>) {re.escape(made)}\b", script), made


def test_walkthrough_runs_as_written(tmp_path):
    _, blocks = walkthrough_blocks()
    script = "set -euo pipefail\n" + "\n".join(blocks)
    env = dict(os.environ)
    env.pop("GPURENT_PASSPHRASE", None)  # the walk-through sets its own
    env.update(PATH=os.path.dirname(os.path.abspath(CLI)) + os.pathsep + env.get("PATH", ""),
               EX=os.path.join(ROOT, "examples", "cli"),
               GPURENT_CUDA_LIBRARY=os.path.abspath(os.path.join(BUILD, "tests", "libfakecuda.so")),
               FAKECUDA_MACHINE="h100")
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # The last step printed the receipt: two matchmakers signed it, and it placed the request.
    tail = r.stdout[r.stdout.rindex('{\n  "type": "envelope"'):]
    env_json = json.loads(tail)
    assert env_json["statement"] == "match_receipt" and len(env_json["signatures"]) == 2
    assert env_json["payload"]["assignments"][0]["request_id"] == "train-llm-1"
    assert env_json["payload"]["matched_at"] == 1767312000  # the request's time, not the wall clock
    assert "to reach tier 6" in r.stdout  # the tier explanation
    # The second matchmaker recomputed the very receipt the first one signed.
    assert (tmp_path / "receipt-m2.bin").read_bytes() == (tmp_path / "receipt.bin").read_bytes()


def test_match_is_deterministic_by_default(tmp_path):
    ex = os.path.join(ROOT, "examples", "cli")
    offer = json.load(open(f"{ex}/offer.json"))
    offer["nodes"][0]["gpu"]["interface"] = 2  # numbers only: the same input for old and new tools
    (tmp_path / "o.json").write_text(json.dumps(offer))
    (tmp_path / "r.json").write_text('{"request_id": "a", "gpu_count": 2, "submitted_at": 1767312000}')
    (tmp_path / "b.json").write_text('{"request_id": "b", "gpu_count": 8, "submitted_at": 1767300000}')
    outs = []
    for i in range(2):
        out = tmp_path / f"r{i}.bin"
        r = subprocess.run([CLI, "match", "--offer", str(tmp_path / "o.json"), "--request", str(tmp_path / "r.json"),
                            "--request", str(tmp_path / "b.json"), "-o", str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append(out.read_bytes())
        time.sleep(1.1)  # a second apart: the old default clock made the receipts differ
    assert outs[0] == outs[1]
    # Without a time in the requests and without --now, match says what it needs.
    (tmp_path / "q.json").write_text('{"request_id": "q"}')
    r = subprocess.run([CLI, "match", "--offer", f"{ex}/offer.json", "--request", str(tmp_path / "q.json")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--now T is required: no request has a submitted_at time" in r.stderr


def test_every_example_encodes_and_round_trips():
    kinds = {"gpu.json": "gpu", "offer.json": "offer", "request.json": "request", "audit.json": "audit_report"}
    ex = os.path.join(ROOT, "examples", "cli")
    assert sorted(f for f in os.listdir(ex) if f.endswith(".json")) == sorted(kinds)
    for name, kind in kinds.items():
        r = subprocess.run([CLI, "encode", kind, os.path.join(ex, name)], capture_output=True)
        assert r.returncode == 0, (name, r.stderr)
        shown = subprocess.run([CLI, "inspect", "-"], input=r.stdout, capture_output=True)
        assert shown.returncode == 0 and json.loads(shown.stdout)["type"] == kind
        again = subprocess.run([CLI, "encode", kind, "-"], input=shown.stdout, capture_output=True)
        assert again.returncode == 0 and again.stdout == r.stdout, name
