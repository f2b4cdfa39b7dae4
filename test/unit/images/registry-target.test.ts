// `kstack images push --registry HOST[:PORT][/PREFIX]`: what it accepts, and for anything else a message
// that names the flag and the allowed form.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegistryTarget, pushTag, pushedRepository } from '../../../src/images/registry-target.js';

describe('images push: --registry', () => {
  it('takes a host, an optional port and an optional lowercase path', () => {
    assert.deepEqual(parseRegistryTarget('registry.example'), {
      host: 'registry.example',
      prefix: '',
      server: 'registry.example',
    });
    assert.deepEqual(parseRegistryTarget('10.77.3.1:5000'), {
      host: '10.77.3.1',
      port: 5000,
      prefix: '',
      server: '10.77.3.1:5000',
    });
    assert.deepEqual(parseRegistryTarget('localhost:443/team/kstack_x.y-z/'), {
      host: 'localhost',
      port: 443,
      prefix: 'team/kstack_x.y-z',
      server: 'localhost:443',
    });
  });

  it('puts each image under the path with a tag of the version and build key', () => {
    const target = parseRegistryTarget('r.example:5000/team');
    assert.equal(pushedRepository(target, 'nginx'), 'r.example:5000/team/nginx');
    assert.equal(pushedRepository(parseRegistryTarget('r.example'), 'node'), 'r.example/node');
    assert.equal(pushTag('0.1.0', '0123456789abcdef'), '0.1.0-0123456789abcdef');
  });

  const refused: [string, RegExp][] = [
    ['', /it is empty/],
    ['https://r.example', /no scheme/],
    ['R.example', /host 'R\.example' is not a lowercase host name/],
    ['r_x.example', /host 'r_x\.example'/],
    ['r.example:', /port '' is not a number from 1 to 65535/],
    ['r.example:0', /port '0'/],
    ['r.example:70000', /port '70000'/],
    ['r.example:5000:1', /more than one ':'/],
    ['r.example/Team', /path part 'Team' is not allowed: lowercase/],
    ['r.example/team//x', /path part '' is not allowed/],
    ['r.example/-team', /path part '-team'/],
    ['r.example/te am', /path part 'te am'/],
  ];
  for (const [text, why] of refused) {
    it(`refuses '${text}', naming the flag and the form`, () => {
      assert.throws(
        () => parseRegistryTarget(text),
        (err: Error) => {
          assert.equal(err.name, 'UserError');
          assert.ok(err.message.startsWith(`--registry '${text}': `), err.message);
          assert.match(err.message, why);
          assert.match(err.message, /use HOST\[:PORT\]\[\/PREFIX\]/);
          return true;
        },
      );
    });
  }
});
