"""Log in with OAuth2 and OpenID Connect providers: the providers, the registry built from the site settings,
and the login / signup / bind flow."""
