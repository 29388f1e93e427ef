import { Controller, Param, Post, Req } from '@nestjs/common';
import type { RequestLock } from 'nestjs-redlock/express';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A route with no decorator of the package: `lockMiddleware`, mounted in main.ts, holds the
 * lock `report:<day>` around it, as it would in front of any Express route.
 */
@Controller('reports')
export class ReportsController {
  @Post(':day/rebuild')
  async rebuild(@Param('day') day: string, @Req() request: { lock: RequestLock }) {
    await sleep(300); // rebuild the day's report
    return { day, rebuiltUnder: request.lock.lock.resources };
  }
}
