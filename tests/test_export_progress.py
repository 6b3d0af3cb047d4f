"""Export progress moves per conversation with real totals, in the widgets and the CLI."""

from __future__ import annotations

from claudelens_nb.cli import main
from claudelens_nb.exports import export
from claudelens_nb.progress import Progress
from claudelens_nb.ui.parts import ProgressView


def test_a_pdf_export_reports_every_conversation_and_real_totals(seeded_db, tmp_path):
    events: list[Progress] = []
    res = export(None, "pdf", tmp_path / "all.pdf", options={"chunk_size": 25}, progress=events.append, db=seeded_db)
    exporting = [e.done for e in events if e.stage == "Exporting"]
    assert exporting == list(range(21))  # 0, 1, 2, ... 20: one step per conversation, not per chunk
    assert {e.total for e in events if e.stage == "Exporting"} == {20}
    finalizing = [(e.done, e.total) for e in events if e.stage == "Finalizing"]
    assert finalizing and set(finalizing) == {(20, 20)} and res.conversations == 20


def test_compressing_counts_bytes_and_the_widget_says_so(seeded_db, tmp_path):
    events: list[Progress] = []
    export(None, "markdown", tmp_path / "all.md", options={"compress": True}, progress=events.append, db=seeded_db)
    compressing = [e for e in events if e.stage == "Compressing"]
    assert compressing and all(e.unit == "bytes" for e in compressing)
    view = ProgressView("cl-test")
    text = view.describe(Progress("Compressing", 3 * 1048576, 8 * 1048576, unit="bytes"), elapsed=2.0)
    assert "3.0 MB / 8.0 MB" in text and "conversations" not in text and "1.5 MB/s" in text
    assert view.describe(Progress("Finalizing", 20, 20), elapsed=0.0) == "<b>Finalizing</b> • 20 / 20 conversations"
    assert view.describe(Progress("Counting", 0), elapsed=0.0) == "<b>Counting</b>"


def test_the_cli_bar_spells_its_unit(seeded_db, tmp_path, capsys):
    assert main(["export", "-f", "jsonl", "-o", str(tmp_path / "x.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "0conv" not in err and "Counting…" in err
    assert "20/20" in err and "conversations/s" in err


def test_a_pdf_export_stops_inside_a_part_when_cancelled(seeded_db, tmp_path):
    import pytest

    from claudelens_nb.errors import Cancelled
    from claudelens_nb.progress import CancelToken

    token = CancelToken()
    reached: list[int] = []

    def cancel_at_five(event: Progress) -> None:
        if event.stage == "Exporting":
            reached.append(event.done)
            if event.done == 5:
                token.cancel()

    with pytest.raises(Cancelled):
        export(None, "pdf", tmp_path / "x.pdf", progress=cancel_at_five, cancel=token, db=seeded_db)
    assert max(reached) == 5 and not (tmp_path / "x.pdf").exists()


def test_the_pdf_writer_reports_each_conversation_as_it_lays_it_out(seeded_db, tmp_path):
    from claudelens_nb import iter_conversations
    from claudelens_nb.errors import Cancelled
    from claudelens_nb.exports.pdf import PdfWriter

    convs = [c for chunk in iter_conversations(None, 20, db=seeded_db) for c in chunk]
    seen: list[tuple[int, str | None]] = []
    writer = PdfWriter(tmp_path / "a.pdf", {"total_conversations": len(convs)}, on_section=lambda n, t: seen.append((n, t)))
    writer.write(convs)
    queued = len(seen)
    writer.close()
    assert queued < len(convs)  # write() queues a part; the numbers come as it is laid out
    assert [n for n, _ in seen] == list(range(1, len(convs) + 1))
    assert seen[0][1] == convs[0].get("title")

    def stop(number: int, _title: str | None) -> None:
        if number == 3:
            raise Cancelled("cancelled by the user")

    writer = PdfWriter(tmp_path / "b.pdf", {"total_conversations": len(convs)}, on_section=stop)
    writer.write(convs)
    import pytest

    with pytest.raises(Cancelled):
        writer.close()  # raised from inside the part's layout, not after it
    writer.abort()
