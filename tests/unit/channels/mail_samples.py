"""E-mail messages as a mail server hands them out (CRLF line ends), written out by hand."""

from __future__ import annotations

PDF = b"%PDF-1.4\n% test act\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"

# A complaint from a common mail client: encoded-word subject and sender name (UTF-8, base64), the text in
# KOI8-R (base64), a PDF attached with an RFC 2231 file name and a photo with an encoded-word file name.
COMPLAINT = b"""Return-Path: <ivanov.ps@mail.example>
Received: from mx.mail.example (mx.mail.example [192.0.2.10])
\tby mail.vodokanal.test with ESMTPS id 4Qx2; Fri, 20 Nov 2026 09:14:03 +0300
Date: Fri, 20 Nov 2026 09:13:58 +0300
From: =?utf-8?b?0JjQstCw0L3QvtCyINCf0ZHRgtGA?= <Ivanov.PS@mail.example>
To: appeals@vodokanal.test
Subject: =?utf-8?b?0J3QtdGCINGF0L7Qu9C+0LTQvdC+0Lkg0LLQvtC00YssINC7L9GBIDAwMTAwMDAx?=
Message-ID: <1732083238.417@mail.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_Part_4411_1"

------=_Part_4411_1
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: base64

+sTSwdfT1NfVytTFISDzINXU0sEgMjAuMTEg0M8gwcTSxdPVINXMLiDyxd7OwdEsIMQuIDEsIMvX
LiAyIM7F1CDIz8zPxM7PyiDXz8TZLgrsycPF18/KINPeo9QgMDAxMDAwMDEuCvDSz9vVINLB2s/C
0sHU2NPRLgotLQrp18HOz9cg8C4g8y4sINTFzC4gKzcgOTEyIDM0NS02Ny04OQo=
------=_Part_4411_1
Content-Type: application/pdf; name*=UTF-8''%D0%B0%D0%BA%D1%82.pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename*=UTF-8''%D0%B0%D0%BA%D1%82.pdf

JVBERi0xLjQKJSB0ZXN0IGFjdAoxIDAgb2JqCjw8Pj4KZW5kb2JqCnRyYWlsZXIKPDw+PgolJUVP
Rgo=
------=_Part_4411_1
Content-Type: image/jpeg; name="=?utf-8?b?0YTQvtGC0L4uanBn?="
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="=?utf-8?b?0YTQvtGC0L4uanBn?="

/9j/4AAQSkZJRgABAQAAAQABAAD/2w==
------=_Part_4411_1--
""".replace(b"\n", b"\r\n")

COMPLAINT_TEXT = ("Здравствуйте! С утра 20.11 по адресу ул. Речная, д. 1, кв. 2 нет холодной воды.\n"
                  "Лицевой счёт 00100001.\nПрошу разобраться.\n--\nИванов П. С., тел. +7 912 345-67-89")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb"

# An HTML-only question in windows-1251 (quoted-printable), without a Message-ID header.
QUESTION = b"""Date: Sat, 21 Nov 2026 18:02:11 +0500
From: petrova@example.org
To: "Vodokanal" <appeals@vodokanal.test>
Subject: =?windows-1251?b?zvLq6/735e3o5SDi7uT7?=
MIME-Version: 1.0
Content-Type: text/html; charset=windows-1251
Content-Transfer-Encoding: quoted-printable

<html><body><p>=C4=EE=E1=F0=FB=E9 =E4=E5=ED=FC!</p><p>=CA=EE=E3=E4=E0 =E4=
=E0=E4=F3=F2 =E2=EE=E4=F3 =E2 =E4=EE=EC=E5 1 =EF=EE =F3=EB. =D0=E5=F7=ED=EE=
=E9?<br>=C6=E4=F3 =EE=F2=E2=E5=F2=E0.</p></body></html>
""".replace(b"\n", b"\r\n")
