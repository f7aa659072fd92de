"""Adapters to the outside world (Telegram, Asterisk AMI, e-mail/SMS, bank files, GIS ZhKKh, EDO,
the edge-agent gateway). Each adapter implements a capability protocol and is replaceable."""
