/*
 * The memory run in a process of its own (`node --expose-gc memory-child.js <urls> <cycles>`),
 * so that what the other scenarios left in the bench process does not blur heap and RSS.
 * Prints the MemoryReport as JSON on its last line.
 */
import { memoryRun } from './memory.js';

const [urls, cycles] = process.argv.slice(2);
const report = await memoryRun(urls.split(','), Number(cycles));
console.log(JSON.stringify(report));
