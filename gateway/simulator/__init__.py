"""Simulated GSM modems on ptys and a virtual network: the test bed and the demo.

An independent peer written from 3GPP TS 27.005, 27.007, 23.040 and 23.038; it never imports the
product's AT engine, modem session or SMS code. Typical use in a test:

    with Network() as net:
        m = net.add_modem(profile="huawei-e173")
        ...  # open m.path with pyserial
        net.phone("+79161234567").send(to=m.msisdn, text="hello")
"""

from gateway.simulator.modem import Faults, SimModem, StoredMessage, SubmitRecord
from gateway.simulator.network import Network, Phone, ReceivedMessage

Modem = SimModem

__all__ = ["Faults", "Modem", "Network", "Phone", "ReceivedMessage", "SimModem", "StoredMessage", "SubmitRecord"]
