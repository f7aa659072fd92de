"""The AMI wire format on byte strings: banner, messages split anywhere, repeated headers, encoding."""

import pytest

from aquabill.channels.asterisk.protocol import Decoder, Message, ProtocolError, action, encode, parse_banner

LOGIN_OK = (b"Asterisk Call Manager/5.0.1\r\n"
            b"Response: Success\r\nActionID: aqb-1\r\nMessage: Authentication accepted\r\n\r\n"
            b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")


def test_banner_version():
    assert parse_banner(b"Asterisk Call Manager/5.0.1\r\n") == "5.0.1"
    with pytest.raises(ProtocolError):
        parse_banner(b"SSH-2.0-OpenSSH_9.2\r\n")


@pytest.mark.parametrize("chunk", [1, 2, 7, 50, len(LOGIN_OK)])
def test_decoder_reassembles_messages_split_anywhere(chunk):
    d = Decoder()
    got: list[Message] = []
    for i in range(0, len(LOGIN_OK), chunk):
        got += d.feed(LOGIN_OK[i:i + chunk])
    assert d.banner == "5.0.1"
    assert [m.response or m.event for m in got] == ["Success", "FullyBooted"]
    assert got[0].action_id == "aqb-1" and got[0]["message"] == "Authentication accepted"
    assert got[1]["Status"] == "Fully Booted"


def test_empty_values_bare_lf_and_unknown_debug_headers():
    d = Decoder(expect_banner=False)
    [m] = d.feed(b"Event: Newchannel\nSequenceNumber: 7666\nFile: manager_channels.c\nAccountCode: \n"
                 b"ConnectedLineNum: <unknown>\nUniqueid: 1514295827.372\n\n")
    assert m["AccountCode"] == "" and m["Uniqueid"] == "1514295827.372" and m["File"] == "manager_channels.c"


def test_value_with_colon_is_kept_whole():
    [m] = Decoder(expect_banner=False).feed(b"Event: VarSet\r\nValue: sip:asterisk@10.100.111.252:5060\r\n\r\n")
    assert m["Value"] == "sip:asterisk@10.100.111.252:5060"


def test_encode_action_with_repeated_variable():
    data = action("Originate", "aqb-7", Channel="PJSIP/101", Exten="89161234567", Variable=["A=1", "B=2"])
    assert data == (b"Action: Originate\r\nActionID: aqb-7\r\nChannel: PJSIP/101\r\nExten: 89161234567\r\n"
                    b"Variable: A=1\r\nVariable: B=2\r\n\r\n")
    [back] = Decoder(expect_banner=False).feed(data)
    assert back.all("Variable") == ["A=1", "B=2"] and back["action"] == "Originate"


def test_line_breaks_in_values_cannot_inject_headers():
    with pytest.raises(ProtocolError):
        encode({"Action": "Login", "Username": "x\r\nAction: Originate"})


def test_secret_not_in_repr():
    [m] = Decoder(expect_banner=False).feed(action("Login", Username="u", Secret="s3cr3t"))
    assert "s3cr3t" not in repr(m)
