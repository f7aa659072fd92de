"""The agent's SQLite journal: commands survive a reopen, the hello cursor, undelivered results, recovery keys."""

import sqlite3

import pytest

from aquabill.edge_agent.journal import Journal

RECEIPT = {"key": "r-1", "operation": 1, "items": []}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "journal.sqlite3"


def test_a_command_is_committed_and_survives_reopening(path):
    with Journal(path) as j:
        entry, created = j.record(7, "k7", "receipt", RECEIPT)
        assert created
    with Journal(path) as j:
        again = j.get(7)
    assert (again.id, again.key, again.kind, again.payload, again.state, again.op_key) == (
        7, "k7", "receipt", RECEIPT, "received", "receipt:r-1")


def test_the_journal_is_wal_with_full_sync(path):
    Journal(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_repeated_id_is_the_same_command(path):
    with Journal(path) as j:
        j.record(7, "k7", "status", {})
        j.set_state(7, "fiscal_started", fiscal_from=10, fiscal_open=True)
        entry, created = j.record(7, "k7", "status", {})
    assert (created, entry.state, entry.fiscal_from) == (False, "fiscal_started", 10)


def test_the_cursor_is_the_highest_journaled_id(path):
    with Journal(path) as j:
        assert j.cursor() == 0
        j.record(5, "a", "status", {})
        j.record(12, "b", "status", {})
        j.record(9, "c", "status", {})
        assert j.cursor() == 12


def test_pending_are_unfinished_in_id_order(path):
    with Journal(path) as j:
        for n in (3, 1, 2):
            j.record(n, f"k{n}", "status", {})
        j.finish(2, True, {"register": None})
        assert [e.id for e in j.pending()] == [1, 3]


def test_undelivered_results_until_result_ack_even_after_reopen(path):
    with Journal(path) as j:
        for n in (1, 2, 3):
            j.record(n, f"k{n}", "status", {})
        j.finish(1, True, {"printed": True})
        j.finish(2, False, {"code": "no_register", "message": "Нет связи с ККТ", "retryable": True})
        assert j.mark_delivered(1)
    with Journal(path) as j:
        frames = [e.result_frame() for e in j.undelivered()]
        assert not j.mark_delivered(3)  # not finished: nothing to confirm
    assert frames == [{"type": "result", "id": 2, "ok": False,
                       "error": {"code": "no_register", "message": "Нет связи с ККТ", "retryable": True}}]


def test_receipt_attempts_share_the_receipt_key(path):
    with Journal(path) as j:
        j.record(1, "c1", "receipt", RECEIPT)
        j.set_state(1, "card_done", card={"rrn": "000000000001"})
        j.set_state(1, "fiscal_started", fiscal_from=41, fiscal_open=True)
        j.finish(1, False, {"code": "no_register", "message": "…", "retryable": True}, fiscal_open=True)
        j.record(2, "c2", "receipt", RECEIPT)
        assert [e.id for e in j.earlier("receipt:r-1", 2)] == [1]
        assert j.card_approval("receipt:r-1") == {"rrn": "000000000001"}
        assert j.open_fiscal_from("receipt:r-1") == 41
        j.resolve_fiscal("receipt:r-1")
        assert j.open_fiscal_from("receipt:r-1") is None


def test_a_finished_receipt_claims_its_fiscal_document(path):
    with Journal(path) as j:
        j.record(1, "c1", "receipt", RECEIPT)
        j.finish(1, True, {"fd_number": 42, "fiscal_sign": 1})
        assert (j.fd_claimed(42), j.fd_claimed(43)) == (True, False)
