// A real OpenID Connect provider (panva/oidc-provider) for the tests, on loopback only.
//
//   node server.mjs <port>
//
// Clients register themselves (RFC 7591 dynamic registration). Any login is accepted by the provider's own
// development login page; the login becomes the subject, and `preferred_username`, `name` and `email` are
// derived from it. POST /test/mode {"mode": ...} makes the token endpoint hand out a broken ID token
// ("bad-signature", "bad-nonce", "bad-audience", "expired") so that the relying party's checks can be tested;
// "" restores normal behaviour.
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
if (!port) {
  console.error('usage: node server.mjs <port>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
const { privateKey: strangerKey } = await generateKeyPair('RS256');

const configuration = {
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  features: {
    registration: { enabled: true },
    devInteractions: { enabled: true },
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
  },
  scopes: ['openid', 'profile', 'email'],
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, preferred_username: sub, name: `Name of ${sub}`, email: `${sub}@example.test` };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
let mode = '';

async function resign(idToken) {
  const header = decodeProtectedHeader(idToken);
  const claims = decodeJwt(idToken);
  let key = privateKey;
  if (mode === 'bad-signature') key = strangerKey;
  if (mode === 'bad-nonce') claims.nonce = 'not-the-nonce-that-was-sent';
  if (mode === 'bad-audience') claims.aud = 'some-other-client';
  if (mode === 'expired') {
    claims.iat -= 7200;
    claims.exp = claims.iat + 60;
  }
  return new SignJWT(claims).setProtectedHeader({ alg: header.alg, kid: header.kid }).sign(key);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/mode' && ctx.method === 'POST') {
    let raw = '';
    for await (const chunk of ctx.req) raw += chunk;
    mode = JSON.parse(raw || '{}').mode || '';
    ctx.body = { mode };
    return;
  }
  await next();
  if (ctx.path === '/token' && mode && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token) };
  }
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
