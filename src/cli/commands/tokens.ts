// `learnsync tokens create|list|revoke`: bearer tokens of the API. Only a hash is stored; the token
// itself is printed once, when it is created.
import { createToken, listTokens, revokeToken, TOKEN_ROLES, type TokenRole } from '../../server/tokens.js';
import { UsageError, type CliCommand } from '../types.js';

export const command: CliCommand = {
  name: 'tokens',
  summary: 'API tokens for `learnsync serve`: create (printed once), list, revoke',
  usage: 'learnsync tokens create <name> [--role read|admin] | tokens list [--json] | tokens revoke <id|name>',
  options: { role: { type: 'string' }, json: { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const [action, arg] = positionals;
    const db = await ctx.warehouse();
    switch (action) {
      case 'create': {
        if (!arg) throw new UsageError('name the token: learnsync tokens create <name> [--role read|admin]');
        const role = (values.role ?? 'read') as TokenRole;
        if (!TOKEN_ROLES.includes(role))
          throw new UsageError(`--role must be read or admin, got "${String(values.role)}"`);
        const { token, info } = await createToken(db, arg, role);
        ctx.print(
          `created ${info.role} token "${info.name}" (id ${info.id}). It is shown only now — store it somewhere safe:`,
        );
        ctx.print(token);
        return 0;
      }
      case 'list': {
        const tokens = await listTokens(db);
        if (values.json) {
          ctx.print(JSON.stringify(tokens, null, 2));
          return 0;
        }
        if (!tokens.length) ctx.print('no tokens yet: learnsync tokens create <name> [--role read|admin]');
        for (const t of tokens) {
          ctx.print(
            `${t.id}  ${t.name.padEnd(24)} ${t.role.padEnd(5)}  created ${t.createdAt.slice(0, 19)}  ` +
              `last used ${t.lastUsedAt?.slice(0, 19) ?? 'never'}` +
              (t.revokedAt ? `  REVOKED ${t.revokedAt.slice(0, 19)}` : ''),
          );
        }
        return 0;
      }
      case 'revoke': {
        if (!arg) throw new UsageError('name the token to revoke by id or name: learnsync tokens revoke <id|name>');
        const n = await revokeToken(db, arg);
        if (!n) throw new UsageError(`no live token with id or name "${arg}": \`learnsync tokens list\` shows them`);
        ctx.print(`revoked ${n} token${n === 1 ? '' : 's'}`);
        return 0;
      }
      default:
        throw new UsageError('tokens needs an action: create <name> [--role read|admin], list or revoke <id|name>');
    }
  },
};
