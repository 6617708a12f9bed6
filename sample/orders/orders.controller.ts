import { Body, Controller, Get, Post } from '@nestjs/common';
import { type Order, type OrderLine, OrdersService } from './orders.service.js';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get('catalog')
  catalog(): string[] {
    return this.orders.skus();
  }

  @Post()
  place(@Body() body: { lines: OrderLine[] }): Promise<Order> {
    return this.orders.place(body.lines);
  }
}
