// The keys live in src/search-attributes.ts (base), so runtime code that reads running workflows
// (runtime/retrying.ts) can name them too; workflow code keeps importing them from here.
export * from '../search-attributes.js';
