"""Enrollment codes and device keys: their alphabet, how they are shown and typed, and what a key names."""

from __future__ import annotations

import hashlib
import re

import pytest

from aquabill.cash import agents


def test_a_new_code_is_ten_characters_of_the_alphabet_shown_in_two_fives():
    for _ in range(200):
        code = agents.new_code()
        assert len(code) == 10 and set(code) <= set(agents.ALPHABET)
        assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", agents.format_code(code))
    assert not set("01IO") & set(agents.ALPHABET)


@pytest.mark.parametrize("typed, normal", [
    ("ABCDE-FGHJK", "ABCDEFGHJK"), ("abcde-fghjk", "ABCDEFGHJK"), (" abcde fghjk ", "ABCDEFGHJK"),
    ("ABCDEFGHJK", "ABCDEFGHJK"), ("A-B-C-D-E-F-G-H-J-K", "ABCDEFGHJK"),
    ("ABCDE-FGHJ", None), ("ABCDE-FGHJKL", None), ("ABCDE-FGHJ0", None), ("ABCDE-FGHJI", None), ("", None),
    ("ЖABCD-FGHJK", None), (None, None), (1234567890, None), ("A" * 41, None)])
def test_a_code_is_read_case_insensitively_without_dashes(typed, normal):
    assert agents.normalize_code(typed) == normal


def test_the_stored_code_hash_is_the_sha256_of_the_normal_form():
    assert agents.code_hash("ABCDEFGHJK") == hashlib.sha256(b"ABCDEFGHJK").hexdigest()


def test_a_new_key_names_its_tenant_and_agent():
    key = agents.new_key("demo-2", 7)
    assert key.startswith("ek1.demo-2.7.")
    assert agents.parse_key(key) == ("demo-2", 7)
    assert agents.key_hash(key) == hashlib.sha256(key.encode()).hexdigest()
    assert agents.new_key("demo", 7) != agents.new_key("demo", 7)


SECRET = "s" * 43


@pytest.mark.parametrize("key", [
    None, "", "ek1", f"ek2.demo.7.{SECRET}", f"ek1.Demo.7.{SECRET}", f"ek1.demo.07.{SECRET}", f"ek1.demo.0.{SECRET}",
    f"ek1.demo.-7.{SECRET}", f"ek1.demo.2147483648.{SECRET}", "ek1.demo.7.short", f"ek1.demo.7.{SECRET}.x",
    f"ek1.demo..{SECRET}", f"ek1.d.7.{SECRET}", f"ek1.demo.7.{SECRET}=", "ek1.demo.7." + "s" * 300, 17,
    f"ek1.de mo.7.{SECRET}"])
def test_what_is_not_a_device_key(key):
    assert agents.parse_key(key) is None


def test_the_largest_agent_id_is_a_postgresql_integer():
    assert agents.parse_key(f"ek1.demo.2147483647.{SECRET}") == ("demo", 2147483647)
