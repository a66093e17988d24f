"""The pages' tests that send mail use `sink` and `mailing` (tests/conftest.py): a real SMTP
sink, and an install that mails through it with its workers running. A test module may set
`MAIL_SETTINGS` (a dict) to change more settings of that install."""
