import { Body, Controller, Post } from '@nestjs/common';
import { type Order, type OrderLine, OrdersService } from './orders.service.js';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  place(@Body() body: { lines: OrderLine[] }): Promise<Order> {
    return this.orders.place(body.lines);
  }
}
