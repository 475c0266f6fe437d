// Express 4 is installed under the alias `express4` for the tests; it has the API of Express 5's types that the tests use.
declare module 'express4' {
  import express from 'express';
  export default express;
}
