import { digestAuthorization, digestResponse, parseDigestChallenge, unsupportedChallenge } from '../src/digest';

describe('HTTP digest authentication (RFC 7616, as Shelly Gen2+ uses it)', () => {
  it('computes the SHA-256 response of the RFC 7616 section 3.9.1 example', () => {
    const challenge = { realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', qop: 'auth', algorithm: 'SHA-256' };
    const response = digestResponse(challenge, {
      username: 'Mufasa',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nc: 1,
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    });
    expect(response).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('reads the challenge a Shelly Wall Display sends, with its empty opaque, and echoes the opaque back', () => {
    const header = 'Digest realm="ShellyWallDisplay-000822891495", qop="auth", nonce="0b00ddda", opaque="", algorithm=SHA-256';
    const challenge = parseDigestChallenge(header)!;
    expect(challenge).toEqual({
      realm: 'ShellyWallDisplay-000822891495',
      nonce: '0b00ddda',
      qop: 'auth',
      algorithm: 'SHA-256',
      opaque: '',
    });
    expect(unsupportedChallenge(challenge)).toBeUndefined();
    const authorization = digestAuthorization(challenge, {
      username: 'admin',
      password: 'secret',
      method: 'GET',
      uri: '/rpc/Shelly.GetStatus',
      nc: 2,
      cnonce: 'abc',
    });
    expect(authorization).toMatch(/^Digest username="admin", realm="ShellyWallDisplay-000822891495", nonce="0b00ddda", /);
    expect(authorization).toContain('uri="/rpc/Shelly.GetStatus", algorithm=SHA-256, response="');
    expect(authorization).toContain('qop=auth, nc=00000002, cnonce="abc", opaque=""');
  });

  it('reads the challenge of a Gen3 Shelly on firmware 2.0.0, parameters in its order', () => {
    // As quoted (realm and nonce elided) in windkh/node-red-contrib-shelly issue #296.
    const challenge = parseDigestChallenge('Digest qop="auth", realm="...", nonce="...", algorithm=SHA-256');
    expect(challenge).toEqual({
      realm: '...',
      nonce: '...',
      qop: 'auth',
      algorithm: 'SHA-256',
      opaque: undefined,
    });
  });

  it('answers the SHA-256 challenge of RFC 7616 section 3.9.1 but says why it cannot answer its MD5 one', () => {
    const rfcChallenge = (algorithm: string): string =>
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
      'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const sha256 = parseDigestChallenge(rfcChallenge('SHA-256'))!;
    expect(sha256.qop).toBe('auth, auth-int');
    expect(sha256.opaque).toBe('FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
    expect(unsupportedChallenge(sha256)).toBeUndefined();
    expect(unsupportedChallenge(parseDigestChallenge(rfcChallenge('MD5'))!)).toBe(
      'digest algorithm MD5 is not supported, only SHA-256',
    );
  });

  it('says why it cannot answer a challenge without qop (curl test 2061)', () => {
    const noQop = parseDigestChallenge('Digest realm="testrealm", nonce="1053604145", algorithm="SHA-256"')!;
    expect(unsupportedChallenge(noQop)).toBe('digest qop "" is not supported, only "auth"');
  });

  it('takes neither basic challenges nor digest challenges without a nonce', () => {
    expect(parseDigestChallenge('Basic realm="shelly"')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="shelly"')).toBeUndefined();
    expect(parseDigestChallenge(null)).toBeUndefined();
  });
});
