"""A Modbus TCP server for the test bench (pymodbus): ten holding registers of unit 1
on ADDRESS:PORT, readable and writable by anyone, as Modbus has no authentication.

Usage: modbus-server.py ADDRESS PORT
"""

import sys

from pymodbus.datastore import (
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.server import StartTcpServer

address, port = sys.argv[1], int(sys.argv[2])
unit = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, [21] * 10))
context = ModbusServerContext(slaves={1: unit}, single=False)
print("listening", flush=True)
StartTcpServer(context=context, address=(address, port))
