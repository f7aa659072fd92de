from aquabill.channels.asterisk.runtime import backoff


def test_backoff_doubles_up_to_a_minute():
    assert [backoff(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff(10_000) == 60
