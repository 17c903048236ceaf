import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { describeStopped } from '../../src/engine/plan-from-engine';
import { isSecretName, maskCredentials, redactSpec } from '../../src/engine/redact-spec';
import { runLabelCommands } from '../../src/engine/stop-containers';
import { container, FakeDocker } from '../helpers/fake-docker';

const SECRET = 'Hunter2-s3cr3t';

describe('isSecretName', () => {
  it('knows secret-naming keys in any case and style', () => {
    for (const name of ['PASSWORD', 'MYSQL_ROOT_PASSWORD', 'dbPassword', 'db.passwd', '--password', 'passphrase', 'client_secret', 'GITHUB_TOKEN', 'api-key', 'apiKey', 'AWS_ACCESS_KEY', 'aws_secret_access_key', 'credentials', 'MYSQL_PASS', '--pass', 'pwd', 'auth', 'traefik.http.middlewares.x.basicauth.users', 'private_key', 'key', 'requirepass']) {
      assert.ok(isSecretName(name), name);
    }
  });

  it('leaves ordinary names alone', () => {
    for (const name of ['com.docker.compose.project', 'org.opencontainers.image.authors', 'bypass', 'compass', 'passthrough', 'monkey', 'hostname', 'user', 'image', 'maintainer', 'port']) {
      assert.ok(!isSecretName(name), name);
    }
  });
});

describe('maskCredentials', () => {
  const cases: [string, string][] = [
    [`mysqldump -uroot -p${SECRET} db > /data/dump.sql`, 'mysqldump -uroot -p[redacted] db > /data/dump.sql'],
    [`mysqldump -uroot -p'${SECRET}' db`, 'mysqldump -uroot -p[redacted] db'],
    [`mysqldump -uroot -p"${SECRET}" db`, 'mysqldump -uroot -p[redacted] db'],
    [`sh -c "mysqldump -p${SECRET} db"`, 'sh -c "mysqldump -p[redacted] db"'],
    [`--password=${SECRET}`, '--password=[redacted]'],
    [`app --db-password=${SECRET} --verbose`, 'app --db-password=[redacted] --verbose'],
    [`redis-server --requirepass ${SECRET} --port 6379`, 'redis-server --requirepass [redacted] --port 6379'],
    [`app --token ${SECRET}`, 'app --token [redacted]'],
    [`sshpass -p ${SECRET} ssh host`, 'sshpass -p [redacted] ssh host'],
    [`PGPASSWORD=${SECRET} pg_dump -U postgres db`, 'PGPASSWORD=[redacted] pg_dump -U postgres db'],
    [`MYSQL_PWD='${SECRET}' mysqldump db`, 'MYSQL_PWD=[redacted] mysqldump db'],
    [`token=${SECRET}`, 'token=[redacted]'],
    [`https://api.example.com/v1?token=${SECRET}&page=2`, 'https://api.example.com/v1?token=[redacted]&page=2'],
    [`pg_dump postgres://admin:${SECRET}@db:5432/app`, 'pg_dump postgres://[redacted]@db:5432/app'],
    [`redis://:${SECRET}@cache:6379`, 'redis://[redacted]@cache:6379'],
    [`curl -u admin:${SECRET} https://x`, 'curl -u [redacted] https://x'],
    [`curl --user=admin:${SECRET} https://x`, 'curl --user=[redacted] https://x'],
    [`curl -H "Authorization: Bearer ${SECRET}" https://x`, 'curl -H "Authorization: Bearer [redacted]" https://x'],
    [`password: ${SECRET}`, 'password: [redacted]'],
    [`{"password": "${SECRET}"}`, '{"password": [redacted]}'],
    [`o=username=u,password=${SECRET}`, 'o=username=u,password=[redacted]'],
  ];
  for (const [text, expected] of cases) {
    it(`masks ${text.replace(SECRET, 'SECRET')}`, () => {
      const masked = maskCredentials(text);
      assert.equal(masked, expected);
      assert.ok(!masked.includes(SECRET));
    });
  }

  it('keeps what holds no credential', () => {
    for (const text of ['pg_dumpall -U postgres > /var/lib/data/dump.sql', 'nginx -g daemon off;', 'https://example.com/path?page=2', 'redis-server --port 6379 --appendonly yes', '--user=postgres', 'curl -u admin https://x', 'postgres']) {
      assert.equal(maskCredentials(text), text);
    }
  });
});

describe('redactSpec', () => {
  const spec = {
    name: 'db',
    image: 'mysql:8',
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['mysqld', `--password=${SECRET}`, '--password', SECRET, '-p', SECRET, '--port', '3306', `--init=postgres://u:${SECRET}@h/db`],
    envNames: ['MYSQL_ROOT_PASSWORD'],
    labels: {
      'docker-volume-backup.archive-pre': `mysqldump -uroot -p${SECRET} --all-databases > /var/lib/mysql/dump.sql`,
      'docker-volume-backup.archive-post': 'rm /var/lib/mysql/dump.sql',
      'docker-volume-backup.stop-during-backup': 'true',
      'com.docker.compose.project': 'shop',
      'com.docker.compose.config-hash': 'a3f1c9e0b7d24c55a1e8f3b2c6d7e9f0a3f1c9e0b7d24c55a1e8f3b2c6d7e9f0',
      'traefik.http.middlewares.auth.basicauth.users': 'admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/',
      'app.api-token': SECRET,
      'app.webhook': `https://hooks.example.com/x?token=${SECRET}`,
      'app.opaque': 'Zx9Qm2LpR7vT4kW8nB3cY6hJ',
      'org.opencontainers.image.authors': 'Jane Doe',
    },
    mounts: [{ type: 'volume', name: 'db-data', destination: '/var/lib/mysql' }],
    restartPolicy: { Name: 'on-failure' },
  };

  it('keeps every label key, the plugin’s non-hook values and harmless values; masks hooks, secrets and tokens', () => {
    const redacted = redactSpec(spec) as typeof spec;
    assert.deepEqual(Object.keys(redacted.labels), Object.keys(spec.labels));
    assert.deepEqual(redacted.labels, {
      'docker-volume-backup.archive-pre': '[redacted]',
      'docker-volume-backup.archive-post': '[redacted]',
      'docker-volume-backup.stop-during-backup': 'true',
      'com.docker.compose.project': 'shop',
      'com.docker.compose.config-hash': spec.labels['com.docker.compose.config-hash'],
      'traefik.http.middlewares.auth.basicauth.users': '[redacted]',
      'app.api-token': '[redacted]',
      'app.webhook': 'https://hooks.example.com/x?token=[redacted]',
      'app.opaque': '[redacted]',
      'org.opencontainers.image.authors': 'Jane Doe',
    });
  });

  it('masks credential arguments of the command, keeps the others', () => {
    const redacted = redactSpec(spec) as typeof spec;
    assert.deepEqual(redacted.cmd, ['mysqld', '--password=[redacted]', '--password', '[redacted]', '-p', '[redacted]', '--port', '3306', '--init=postgres://[redacted]@h/db']);
    assert.deepEqual(redacted.entrypoint, spec.entrypoint);
    assert.deepEqual(redacted.mounts, spec.mounts);
    assert.deepEqual(redacted.envNames, spec.envNames);
    assert.ok(!JSON.stringify(redacted).includes(SECRET));
  });

  it('masks a service spec: its labels, its container labels, command, args and mount driver options', () => {
    const service = {
      Name: 'shop_db',
      Labels: { 'com.docker.stack.namespace': 'shop', 'app.secret': SECRET },
      TaskTemplate: {
        ContainerSpec: {
          Image: 'postgres:16',
          Labels: { 'docker-volume-backup.archive-pre': `PGPASSWORD=${SECRET} pg_dumpall > /d/dump.sql` },
          Command: ['postgres'],
          Args: ['-c', `primary_conninfo=host=p user=r password=${SECRET}`],
          EnvNames: ['POSTGRES_PASSWORD'],
          Mounts: [{ Source: 'nfs', Target: '/d', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'cifs', o: `username=u,password=${SECRET}` } } } }],
          Healthcheck: { Test: ['CMD', 'mysqladmin', 'ping', `-p${SECRET}`] },
          Secrets: [{ File: { Name: 'db_password', UID: '0', GID: '0', Mode: 292 }, SecretID: 'k2x9', SecretName: 'db_password' }],
          Privileges: { CredentialSpec: null },
          DBPassword: SECRET,
        },
      },
      Mode: { Replicated: { Replicas: 1 } },
    };
    const redacted = redactSpec(service) as typeof service;
    assert.ok(!JSON.stringify(redacted).includes(SECRET), JSON.stringify(redacted));
    assert.equal(redacted.Labels['com.docker.stack.namespace'], 'shop');
    assert.equal(redacted.TaskTemplate.ContainerSpec.Mounts[0].VolumeOptions.DriverConfig.Options.type, 'cifs');
    assert.equal(redacted.TaskTemplate.ContainerSpec.Args[1], 'primary_conninfo=host=p user=r password=[redacted]');
    assert.deepEqual(redacted.Mode, service.Mode);
    // The names of Swarm secrets are kept: they are needed to recreate the service and hold no value.
    assert.deepEqual(redacted.TaskTemplate.ContainerSpec.Secrets, service.TaskTemplate.ContainerSpec.Secrets);
    assert.equal(redacted.TaskTemplate.ContainerSpec.DBPassword, '[redacted]');
  });

  it('is applied to what describeStopped returns for the manifest', async () => {
    const docker = new FakeDocker([container('db', { volumes: ['v'] })]);
    docker.describeContainer = async () => ({ name: 'db', cmd: [`--password=${SECRET}`], labels: { 'docker-volume-backup.archive-pre': `mysqldump -p${SECRET}` } });
    const specs = await describeStopped(docker, { stop: [{ id: 'db', name: 'db', restart: true }], scale: [], pre: [], post: [] } as never, createSilentLogger());
    assert.ok(!JSON.stringify(specs).includes(SECRET), JSON.stringify(specs));
    assert.deepEqual(specs.containers[0], { name: 'db', cmd: ['--password=[redacted]'], labels: { 'docker-volume-backup.archive-pre': '[redacted]' } });
  });
});

describe('a failed hook', () => {
  it('has its output masked in the error that reaches the status and notifications', async () => {
    const docker = new FakeDocker([container('db', { volumes: ['v'] })]);
    docker.execResults.set('x', { exitCode: 2, output: `+ mysqldump -uroot -p${SECRET} db\nmysqldump: Got error: 1045: Access denied` });
    await assert.rejects(
      runLabelCommands({ docker, commands: [{ containerId: 'db', containerName: 'db', command: 'x' }], phase: 'archive-pre', logger: createSilentLogger() }),
      (error: Error) => {
        assert.ok(!error.message.includes(SECRET), error.message);
        assert.match(error.message, /exited with 2: \+ mysqldump -uroot -p\[redacted\] db\nmysqldump: Got error: 1045: Access denied/);
        return true;
      },
    );
  });
});
