// What a root client on one of the chart's db members needs, as the chart lays it out: the root password
// mounted from the db Secret (templates/db/_db.tpl, `rootPasswordFile`) and the server's socket in the
// agent's run folder (src/galera/config.ts, `runDir`). kstack runs SQL on a member through `kubectl exec`
// with these (prove's rows, the region commands); test/unit/chart/db/render.test.ts holds them to the
// rendered chart.

export const DB_ROOT_PASSWORD_FILE = '/etc/webstack-db/secret/mariadb-root-password';
export const DB_SOCKET = '/run/mysqld/mysqld.sock';

/**
 * A `sh -c` line that runs `program` as root over the member's socket, the password read inside the pod
 * from the mounted Secret (it never appears on a command line kstack builds), then `args` as given.
 */
export function rootClientLine(program: 'mariadb' | 'mariadb-dump', args = ''): string {
  return `exec ${program} -S ${DB_SOCKET} -uroot -p"$(cat ${DB_ROOT_PASSWORD_FILE})"${args ? ` ${args}` : ''}`;
}
