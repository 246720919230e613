"""E-mail: the SMTP mailer with its connection pool, the mail templates, and the verification codes."""
