// express4 is express@4 installed under an alias, to test the middleware on Express 4 and 5;
// the two share the API the tests use, so Express 5's types stand in.
declare module 'express4' {
  import express from 'express';
  export default express;
}
