"""Local peers speaking real wire protocols, for the dev server and the tests: the Telegram Bot API, the MAX
Bot API, the YooKassa payments API, an SMS gateway. Nothing here is used in production."""
