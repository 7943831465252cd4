import { formatLeastPrivilege, leastPrivilege } from "./_least_privilege.ts";
console.log(formatLeastPrivilege(await leastPrivilege()));
